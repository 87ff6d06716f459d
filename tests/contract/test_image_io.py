import io
import os
import re
import struct
import zlib

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms, ImageFile, ImageOps

from rilievo.adapters.image_io import (
    PillowImageDecoder,
    read_png,
    write_bytes_atomic,
    write_json_atomic,
    write_png,
)
from rilievo.domain.errors import ImageRejected

RED = (200, 30, 10)


def decode(path, **kwargs):
    return PillowImageDecoder(**kwargs).decode(path)


def save(tmp_path, name, img, **params):
    path = tmp_path / name
    img.save(path, **params)
    return path


def gradient(width=40, height=30):
    """An 8-bit RGB image whose every pixel differs from its neighbours."""
    y, x = np.mgrid[0:height, 0:width]
    return np.dstack([x * 6, y * 8, (x + y) * 3]).astype(np.uint8)


def assert_pixels(decoded, expected_uint8, tolerance=0.5 / 255):
    assert np.abs(decoded.pixels - expected_uint8 / 255).max() <= tolerance


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def with_exif_orientation(png: bytes, orientation: int) -> bytes:
    """Adds an eXIf chunk right after IHDR (Pillow cannot write one into a 16-bit RGB PNG)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    tiff_data = exif.tobytes()[len(b"Exif\x00\x00") :]
    return png[:33] + png_chunk(b"eXIf", tiff_data) + png[33:]


def png_header_only(width, height) -> bytes:
    """A PNG that declares a size but carries almost no pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + png_chunk(b"IEND", b"")
    )


def marked(width=40, height=20):
    """Black, non-square, with a white 4x4 marker in the top-left corner."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:4, :4] = 255
    return pixels


def marker_corner(pixels):
    """Which corner of the decoded image holds the white marker."""
    height, width = pixels.shape[:2]
    corners = {
        "top-left": pixels[0, 0],
        "top-right": pixels[0, width - 1],
        "bottom-left": pixels[height - 1, 0],
        "bottom-right": pixels[height - 1, width - 1],
    }
    return [name for name, value in corners.items() if value.mean() > 0.5]


def swapped_primaries_profile() -> bytes:
    """A valid RGB ICC profile that is not sRGB: sRGB with its red and green primaries swapped."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (tag_count,) = struct.unpack(">I", profile[128:132])
    entries = {bytes(profile[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(tag_count)}
    red, green = entries[b"rXYZ"] + 4, entries[b"gXYZ"] + 4
    profile[red : red + 8], profile[green : green + 8] = profile[green : green + 8], profile[red : red + 8]
    profile[84:100] = bytes(16)  # profile ID: all zeros means "not computed"
    return bytes(profile).replace("sRGB".encode("utf-16-be"), "Swap".encode("utf-16-be"))


# --- accepted kinds -------------------------------------------------------------------------


def test_rgb_jpeg_is_decoded_as_8_bit_srgb_floats(tmp_path):
    path = save(tmp_path, "photo.jpg", Image.fromarray(gradient()), quality=95)
    decoded = decode(path)
    assert (decoded.format, decoded.bit_depth, decoded.width, decoded.height) == ("JPEG", 8, 40, 30)
    assert decoded.pixels.shape == (30, 40, 3) and decoded.pixels.dtype == np.float32
    assert_pixels(decoded, gradient(), tolerance=12 / 255)
    assert not decoded.had_alpha and decoded.converted_from is None


def test_gray_jpeg_is_decoded_as_three_equal_channels(tmp_path):
    gray = gradient()[..., 0]
    decoded = decode(save(tmp_path, "gray.jpg", Image.fromarray(gray), quality=95))
    assert decoded.pixels.shape == (30, 40, 3)
    assert np.array_equal(decoded.pixels[..., 0], decoded.pixels[..., 2])
    assert np.abs(decoded.pixels[..., 1] - gray / 255).max() < 8 / 255


def test_cmyk_jpeg_is_converted_to_srgb(tmp_path):
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # full magenta + yellow = red
    decoded = decode(save(tmp_path, "cmyk.jpg", cmyk, quality=95))
    assert np.abs(decoded.pixels - [1, 0, 0]).max() < 6 / 255


def test_cmyk_tiff_is_converted_to_srgb(tmp_path):
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))
    decoded = decode(save(tmp_path, "cmyk.tif", cmyk))
    assert decoded.format == "TIFF"
    assert np.allclose(decoded.pixels, [1, 0, 0])


def test_rgb_png_is_decoded_exactly(tmp_path):
    decoded = decode(save(tmp_path, "photo.png", Image.fromarray(gradient())))
    assert (decoded.format, decoded.bit_depth) == ("PNG", 8)
    assert_pixels(decoded, gradient())


def test_rgba_png_is_composited_over_white(tmp_path):
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[..., :3] = RED
    pixels[:, :4, 3] = 255  # left half opaque red, right half fully transparent
    pixels[0, 0, 3] = 0
    decoded = decode(save(tmp_path, "alpha.png", Image.fromarray(pixels, "RGBA")))
    assert decoded.had_alpha
    assert np.allclose(decoded.pixels[1, 0], np.array(RED) / 255)
    assert np.allclose(decoded.pixels[:, 4:], 1.0)
    assert np.allclose(decoded.pixels[0, 0], 1.0)


def test_half_transparent_pixels_blend_with_white(tmp_path):
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[..., 3] = 255 * 2 // 5  # black at 40% opacity
    decoded = decode(save(tmp_path, "half.png", Image.fromarray(pixels, "RGBA")))
    assert np.allclose(decoded.pixels, 1 - 102 / 255)


def test_gray_png_is_decoded(tmp_path):
    gray = gradient()[..., 1]
    decoded = decode(save(tmp_path, "gray.png", Image.fromarray(gray, "L")))
    assert decoded.bit_depth == 8
    assert_pixels(decoded, np.dstack([gray] * 3))


def test_gray_alpha_png_is_composited_over_white(tmp_path):
    pixels = np.zeros((8, 8, 2), np.uint8)
    pixels[:3, :, 1] = 255  # top half opaque black, bottom half transparent
    decoded = decode(save(tmp_path, "la.png", Image.fromarray(pixels, "LA")))
    assert decoded.had_alpha
    assert np.allclose(decoded.pixels[:3], 0.0) and np.allclose(decoded.pixels[3:], 1.0)


def test_palette_png_with_transparency_is_composited_over_white(tmp_path):
    img = Image.new("P", (8, 8), 0)
    img.putpalette([*RED, 0, 0, 255] + [0] * 762)
    img.paste(1, (0, 0, 3, 8))
    decoded = decode(save(tmp_path, "palette.png", img, transparency=0))
    assert decoded.had_alpha
    assert np.allclose(decoded.pixels[:, :3], [0, 0, 1])
    assert np.allclose(decoded.pixels[:, 3:], 1.0)


def test_palette_png_without_transparency_keeps_its_colours(tmp_path):
    img = Image.new("P", (8, 8), 0)
    img.putpalette([*RED] + [0] * 765)
    decoded = decode(save(tmp_path, "palette.png", img))
    assert not decoded.had_alpha
    assert np.allclose(decoded.pixels, np.array(RED) / 255)


def test_16_bit_gray_png_keeps_16_bit_precision(tmp_path):
    gray = np.full((10, 12), 1000, np.uint16)
    gray[0, 0] = 1001
    decoded = decode(save(tmp_path, "gray16.png", Image.fromarray(gray)))
    assert decoded.bit_depth == 16
    assert abs(decoded.pixels[5, 5, 0] - 1000 / 65535) < 1e-6
    assert decoded.pixels[0, 0, 0] > decoded.pixels[5, 5, 0]


def rgb16():
    pixels = np.zeros((10, 12, 3), np.uint16)
    pixels[..., 0] = 1000
    pixels[..., 1] = 30000
    pixels[..., 2] = 65535
    pixels[0, 0, 0] = 1001  # differs from its neighbours only below 8-bit precision
    return pixels


def assert_rgb16_kept(decoded):
    assert decoded.bit_depth == 16
    assert np.abs(decoded.pixels[5, 5] - np.array([1000, 30000, 65535]) / 65535).max() < 1e-4
    assert decoded.pixels[0, 0, 0] > decoded.pixels[5, 5, 0]


def test_16_bit_rgb_png_keeps_16_bit_precision(tmp_path):
    path = tmp_path / "rgb16.png"
    path.write_bytes(cv2.imencode(".png", rgb16()[..., ::-1])[1].tobytes())
    assert_rgb16_kept(decode(path))


def test_16_bit_rgba_png_keeps_precision_and_is_composited(tmp_path):
    pixels = np.dstack([rgb16(), np.full((10, 12), 65535, np.uint16)])
    pixels[:, 6:, 3] = 0
    path = tmp_path / "rgba16.png"
    path.write_bytes(cv2.imencode(".png", pixels[..., [2, 1, 0, 3]])[1].tobytes())
    decoded = decode(path)
    assert decoded.had_alpha
    assert_rgb16_kept(decoded)
    assert np.allclose(decoded.pixels[:, 6:], 1.0)


def test_8_bit_rgb_tiff_is_decoded_exactly(tmp_path):
    decoded = decode(save(tmp_path, "photo.tif", Image.fromarray(gradient())))
    assert (decoded.format, decoded.bit_depth) == ("TIFF", 8)
    assert_pixels(decoded, gradient())


@pytest.mark.parametrize("compression", [None, "zlib"])
def test_16_bit_rgb_tiff_keeps_16_bit_precision(tmp_path, compression):
    path = tmp_path / "rgb16.tif"
    tifffile.imwrite(path, rgb16(), photometric="rgb", compression=compression)
    assert_rgb16_kept(decode(path))


def test_webp_rgb_is_decoded(tmp_path):
    decoded = decode(save(tmp_path, "photo.webp", Image.fromarray(gradient()), lossless=True))
    assert (decoded.format, decoded.bit_depth) == ("WEBP", 8)
    assert_pixels(decoded, gradient())


def test_webp_rgba_is_composited_over_white(tmp_path):
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[..., :3] = RED
    pixels[:, :4, 3] = 255
    decoded = decode(save(tmp_path, "alpha.webp", Image.fromarray(pixels, "RGBA"), lossless=True))
    assert decoded.had_alpha
    assert np.allclose(decoded.pixels[:, :4], np.array(RED) / 255)
    assert np.allclose(decoded.pixels[:, 4:], 1.0)


# --- orientation ----------------------------------------------------------------------------


def exif_with_orientation(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


@pytest.mark.parametrize(
    ("orientation", "size", "corner"),
    [
        (1, (40, 20), "top-left"),
        (3, (40, 20), "bottom-right"),
        (6, (20, 40), "top-right"),
        (8, (20, 40), "bottom-left"),
    ],
)
def test_exif_orientation_turns_a_jpeg_upright(tmp_path, orientation, size, corner):
    exif = exif_with_orientation(orientation)
    path = save(tmp_path, "turned.jpg", Image.fromarray(marked()), exif=exif, quality=95)
    decoded = decode(path)
    assert (decoded.width, decoded.height) == size
    assert marker_corner(decoded.pixels) == [corner]


@pytest.mark.parametrize("name", ["turned.png", "turned.tif", "turned.webp"])
def test_exif_orientation_is_applied_in_every_format(tmp_path, name):
    path = save(tmp_path, name, Image.fromarray(marked()), exif=exif_with_orientation(6), lossless=True)
    decoded = decode(path)
    assert (decoded.width, decoded.height) == (20, 40)
    assert marker_corner(decoded.pixels) == ["top-right"]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_of_a_16_bit_png_matches_pillows_exif_transpose(tmp_path, orientation):
    pixels = rgb16()
    pixels[:2, :3] = 65535
    path = tmp_path / "turned16.png"
    path.write_bytes(with_exif_orientation(cv2.imencode(".png", pixels[..., ::-1])[1].tobytes(), orientation))
    eight_bit = Image.fromarray((pixels // 257).astype(np.uint8))
    eight_bit = save(tmp_path, "turned8.png", eight_bit, exif=exif_with_orientation(orientation))
    with Image.open(eight_bit) as img:
        expected = np.asarray(ImageOps.exif_transpose(img))
    decoded = decode(path)
    assert decoded.bit_depth == 16
    assert decoded.pixels.shape == expected.shape
    assert np.abs(decoded.pixels - expected / 255).max() < 1 / 255


@pytest.mark.parametrize("orientation", [3, 6])
def test_exif_orientation_of_a_16_bit_tiff_is_applied_once(tmp_path, orientation):
    path = tmp_path / "turned16.tif"
    pixels = np.zeros((20, 40, 3), np.uint16)
    pixels[:4, :4] = 65535
    tifffile.imwrite(path, pixels, photometric="rgb", extratags=[(274, "H", 1, orientation, True)])
    decoded = decode(path)
    assert decoded.bit_depth == 16
    expected = {3: ((40, 20), "bottom-right"), 6: ((20, 40), "top-right")}[orientation]
    assert ((decoded.width, decoded.height), marker_corner(decoded.pixels)[0]) == expected


def test_exif_orientation_of_a_16_bit_gray_png_is_applied(tmp_path):
    gray = np.zeros((20, 40), np.uint16)
    gray[:4, :4] = 65535
    path = save(tmp_path, "turned16.png", Image.fromarray(gray), exif=exif_with_orientation(6))
    decoded = decode(path)
    assert decoded.bit_depth == 16
    assert (decoded.width, decoded.height) == (20, 40)
    assert marker_corner(decoded.pixels) == ["top-right"]


# --- colour profiles ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tagged.png", "tagged.jpg"])
def test_non_srgb_icc_profile_is_converted_to_srgb(tmp_path, name):
    img = Image.new("RGB", (8, 8), RED)
    decoded = decode(save(tmp_path, name, img, icc_profile=swapped_primaries_profile(), quality=100))
    assert decoded.converted_from == "Swap built-in"
    assert np.abs(decoded.pixels[4, 4] - np.array([30, 200, 10]) / 255).max() < 4 / 255


def test_16_bit_rgb_with_a_non_srgb_profile_is_converted_at_8_bits(tmp_path):
    path = tmp_path / "rgb16.png"
    png = cv2.imencode(".png", rgb16()[..., ::-1])[1].tobytes()
    iccp = png_chunk(b"iCCP", b"swap\x00\x00" + zlib.compress(swapped_primaries_profile()))
    path.write_bytes(png[:33] + iccp + png[33:])
    decoded = decode(path)
    assert decoded.bit_depth == 8 and decoded.converted_from == "Swap built-in"
    assert np.abs(decoded.pixels[5, 5] - np.array([30000, 1000, 65535]) / 65535).max() < 3 / 255


def test_embedded_srgb_profile_leaves_pixels_unchanged(tmp_path):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    decoded = decode(save(tmp_path, "srgb.png", Image.fromarray(gradient()), icc_profile=srgb))
    assert decoded.converted_from is None
    assert_pixels(decoded, gradient())


def test_profile_that_does_not_fit_the_pixels_is_refused(tmp_path):
    gray = Image.new("L", (8, 8), 128)
    with pytest.raises(ImageRejected, match="colour profile"):
        decode(save(tmp_path, "gray.png", gray, icc_profile=swapped_primaries_profile()))


def with_png_chunks(png: bytes, *chunks: bytes) -> bytes:
    """Adds chunks right after IHDR."""
    return png[:33] + b"".join(chunks) + png[33:]


def gamma_chunk(gamma: float) -> bytes:
    return png_chunk(b"gAMA", struct.pack(">I", round(gamma * 100_000)))


def chrm_chunk(white, red, green, blue) -> bytes:
    return png_chunk(b"cHRM", struct.pack(">8I", *(round(v * 100_000) for xy in (white, red, green, blue) for v in xy)))


def png_bytes(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_linear_png_gamma_is_converted_to_srgb_as_a_browser_shows_it(tmp_path, mode):
    """Gray 128 stored with gAMA 1.0 is light 0.5, which sRGB encodes as 188 (browsers show about 186)."""
    path = tmp_path / "linear.png"
    path.write_bytes(with_png_chunks(png_bytes(Image.new(mode, (8, 8), 128 if mode == "L" else (128,) * 3)),
                                     gamma_chunk(1.0)))
    decoded = decode(path)
    assert np.allclose(decoded.pixels * 255, 187.8, atol=0.5)
    assert decoded.converted_from == "PNG gAMA 1"


def test_png_gamma_of_about_1_over_2_2_is_read_as_srgb(tmp_path):
    path = tmp_path / "srgbish.png"
    path.write_bytes(with_png_chunks(png_bytes(Image.fromarray(gradient())), gamma_chunk(0.45455)))
    decoded = decode(path)
    assert decoded.converted_from is None
    assert_pixels(decoded, gradient())


def test_png_srgb_chunk_takes_precedence_over_gamma(tmp_path):
    path = tmp_path / "srgb.png"
    srgb = png_chunk(b"sRGB", b"\x00")
    path.write_bytes(with_png_chunks(png_bytes(Image.fromarray(gradient())), srgb, gamma_chunk(1.0)))
    decoded = decode(path)
    assert decoded.converted_from is None
    assert_pixels(decoded, gradient())


def test_png_chromaticities_are_converted_to_srgb_primaries(tmp_path):
    """Pure green in wide-gamut primaries is more saturated than sRGB green: it clips to sRGB's, with some
    red removed; white stays white."""
    pixels = np.zeros((8, 8, 3), np.uint8)
    pixels[:, :4] = (0, 255, 0)
    pixels[:, 4:] = 255
    wide = chrm_chunk((0.3127, 0.329), (0.64, 0.33), (0.21, 0.71), (0.15, 0.06))  # Adobe RGB primaries
    path = tmp_path / "wide.png"
    path.write_bytes(with_png_chunks(png_bytes(Image.fromarray(pixels)), gamma_chunk(1 / 2.2), wide))
    decoded = decode(path)
    assert decoded.converted_from == "PNG gAMA 0.45455 and cHRM"
    assert np.allclose(decoded.pixels[:, 4:], 1.0, atol=1e-3)
    assert decoded.pixels[0, 0, 1] > 0.99 and decoded.pixels[0, 0, 0] < 0.01


def test_16_bit_png_gamma_is_converted_at_full_precision(tmp_path):
    values = np.full((8, 8, 3), 32768, np.uint16)
    ok, encoded = cv2.imencode(".png", values)
    path = tmp_path / "linear16.png"
    path.write_bytes(with_png_chunks(encoded.tobytes(), gamma_chunk(1.0)))
    decoded = decode(path)
    assert decoded.bit_depth == 16 and decoded.converted_from == "PNG gAMA 1"
    light = 32768 / 65535
    assert np.allclose(decoded.pixels, 1.055 * light ** (1 / 2.4) - 0.055, atol=1e-5)


def test_decode_values_ignores_png_gamma(tmp_path):
    """A depth map's values are data, not colours."""
    path = tmp_path / "depth.png"
    path.write_bytes(with_png_chunks(png_bytes(Image.new("L", (8, 8), 128)), gamma_chunk(1.0)))
    assert np.allclose(PillowImageDecoder().decode_values(path), 128 / 255)


# --- floating-point TIFF ----------------------------------------------------------------------


def test_float_gray_tiff_values_are_read_as_they_are(tmp_path):
    values = np.tile(np.linspace(0.0, 1.0, 16, dtype=np.float32), (8, 1))
    tifffile.imwrite(tmp_path / "depth.tif", values)
    read, unknown = PillowImageDecoder().decode_data(tmp_path / "depth.tif")
    assert read.dtype == np.float32 and np.array_equal(read, values) and unknown == 0


def test_float_values_outside_zero_to_one_are_stretched_to_it(tmp_path):
    metres = np.tile(np.linspace(0.5, 12.0, 16, dtype=np.float32), (8, 1))
    tifffile.imwrite(tmp_path / "metres.tif", metres)
    read = PillowImageDecoder().decode_values(tmp_path / "metres.tif")
    assert np.allclose(read, (metres - 0.5) / 11.5, atol=1e-6)


def test_unknown_float_values_take_the_nearest_known_value_and_are_counted(tmp_path):
    values = np.tile(np.linspace(0.0, 1.0, 16, dtype=np.float32), (8, 1))
    values[:, 0] = np.nan
    values[2, 15] = np.inf
    values[5, 7] = -np.inf
    tifffile.imwrite(tmp_path / "holes.tif", values)
    read, unknown = PillowImageDecoder().decode_data(tmp_path / "holes.tif")
    assert unknown == 10 and np.isfinite(read).all()
    assert np.allclose(read[:, 0], 1 / 15) and read[2, 15] == read[2, 14]
    assert read[5, 7] in (read[5, 6], read[5, 8], read[4, 7], read[6, 7])


def test_float_gray_tiff_is_also_accepted_as_an_upload(tmp_path):
    """Uploads go through decode whatever they are for: a float depth map must pass it."""
    values = np.full((8, 10), 3.5, np.float32)
    values[0, 0] = np.nan
    tifffile.imwrite(tmp_path / "depth.tif", values)
    decoded = decode(tmp_path / "depth.tif")
    assert (decoded.width, decoded.height, decoded.format) == (10, 8, "TIFF")
    assert np.isfinite(decoded.pixels).all() and 0.0 <= decoded.pixels.min() <= decoded.pixels.max() <= 1.0


def test_a_float_tiff_with_no_known_value_is_refused(tmp_path):
    tifffile.imwrite(tmp_path / "nan.tif", np.full((8, 8), np.nan, np.float32))
    with pytest.raises(ImageRejected, match=r"^nan.tif holds no known value"):
        decode(tmp_path / "nan.tif")


def test_float_rgb_tiff_is_refused_for_what_it_is(tmp_path):
    tifffile.imwrite(tmp_path / "hdr.tif", np.random.default_rng(0).random((8, 8, 3), np.float32), photometric="rgb")
    with pytest.raises(ImageRejected, match=r"^hdr.tif holds 32-bit floating-point colour .* 16-bit TIFF"):
        decode(tmp_path / "hdr.tif")


def test_half_float_gray_tiff_is_refused_for_what_it_is(tmp_path):
    tifffile.imwrite(tmp_path / "half.tif", np.zeros((8, 8), np.float16))
    with pytest.raises(ImageRejected, match=r"^half.tif holds 16-bit floating-point values"):
        decode(tmp_path / "half.tif")


# --- refused kinds --------------------------------------------------------------------------


def test_text_file_named_jpg_is_refused(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("shopping list: bread, milk\n")
    with pytest.raises(ImageRejected, match=r"notes\.jpg is not an image Rilievo can read \(accepted: JPEG"):
        decode(path)


def noisy(width=200, height=150):
    return np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize("name", ["photo.jpg", "photo.png", "photo.webp", "photo.tif"])
def test_truncated_file_is_refused(tmp_path, name):
    whole = save(tmp_path, "whole" + name[5:], Image.fromarray(noisy()))
    path = tmp_path / name
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ImageRejected, match=rf"^{re.escape(name)} is (truncated|damaged)"):
        decode(path)


def test_truncated_jpeg_says_it_is_truncated(tmp_path):
    whole = save(tmp_path, "whole.jpg", Image.fromarray(noisy()))
    path = tmp_path / "photo.jpg"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    expected = r"photo\.jpg is truncated \(the file ends before the image data does\)"
    with pytest.raises(ImageRejected, match=expected):
        decode(path)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.jpg"
    path.touch()
    with pytest.raises(ImageRejected, match=r"^empty\.jpg is empty \(0 bytes\)$"):
        decode(path)


def test_image_over_the_pixel_limit_is_refused_without_decoding(tmp_path, monkeypatch):
    path = save(tmp_path, "big.png", Image.new("RGB", (2000, 2000)))
    loads = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self))
    expected = r"big\.png is 2000x2000 = 4\.0 megapixels, over the 1 megapixel limit"
    with pytest.raises(ImageRejected, match=expected):
        decode(path, max_pixels=1_000_000)
    assert loads == []


def test_header_declaring_more_than_the_default_limit_is_refused(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(13000, 12000))
    expected = r"156\.0 megapixels, over the 150 megapixel limit \(set RILIEVO_MAX_PIXELS"
    with pytest.raises(ImageRejected, match=expected):
        decode(path)


def test_a_bomb_header_is_refused_by_our_limit_before_any_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(30000, 30000))
    with pytest.raises(ImageRejected, match=r"bomb\.png is 30000x30000 = 900\.0 megapixels, over the 150"):
        decode(path)


def test_the_pixel_limit_can_be_raised_beyond_pillows_own(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(png_header_only(30000, 30000))
    with pytest.raises(ImageRejected, match="truncated|damaged"):  # past the size check, no pixel data
        decode(path, max_pixels=10**10)


@pytest.mark.parametrize("name", ["anim.gif", "scan.bmp"])
def test_unsupported_formats_are_refused(tmp_path, name):
    path = save(tmp_path, name, Image.fromarray(gradient()))
    with pytest.raises(ImageRejected, match="not an image Rilievo can read"):
        decode(path)


@pytest.mark.parametrize("size", [(1, 1), (1, 5000), (5000, 2), (7, 8)])
def test_a_photo_smaller_than_8_px_on_a_side_is_refused(tmp_path, size):
    path = save(tmp_path, "tiny.png", Image.new("RGB", size))
    with pytest.raises(ImageRejected, match=rf"^tiny.png is {size[0]}x{size[1]} px, too small: .* at least 8 px"):
        decode(path)
    with pytest.raises(ImageRejected, match="too small"):
        PillowImageDecoder().decode_values(path)


@pytest.mark.parametrize("size", [(9000, 8), (8, 8193)])
def test_a_photo_too_narrow_for_its_previews_is_refused(tmp_path, size):
    """The previews shrink both sides by one factor (1/9 for 9000 px): 8 px would become none."""
    path = save(tmp_path, "strip.png", Image.new("L", size))
    with pytest.raises(ImageRejected, match=rf"^strip.png is {size[0]}x{size[1]} px, too narrow: .* at least 9 px"):
        decode(path)


@pytest.mark.parametrize("size", [(8, 8), (8192, 8)])
def test_a_photo_of_8_px_a_side_is_accepted_up_to_1024_times_as_long(tmp_path, size):
    assert decode(save(tmp_path, "small.png", Image.new("L", size))).width == size[0]


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ImageRejected, match=r"gone\.jpg cannot be read"):
        decode(tmp_path / "gone.jpg")


# --- writing --------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("shape", [(9, 7), (9, 7, 3), (9, 7, 4)])
def test_png_round_trip(tmp_path, bits, shape):
    pixels = np.random.default_rng(2).random(shape, dtype=np.float32)
    path = tmp_path / "out.png"
    write_png(path, pixels, bits)
    back = read_png(path)
    assert back.shape == shape and back.dtype == np.float32
    assert np.abs(back - pixels).max() <= 0.5 / (2**bits - 1) + 1e-6


def test_png_is_written_in_rgb_order_with_the_requested_depth(tmp_path):
    path = tmp_path / "red.png"
    write_png(path, np.tile(np.float32([1, 0, 0]), (2, 2, 1)), 16)
    with Image.open(path) as img:
        assert img.getpixel((0, 0)) == (255, 0, 0)
    assert path.read_bytes()[24] == 16  # IHDR bit depth


def test_png_values_are_clipped(tmp_path):
    path = tmp_path / "clip.png"
    write_png(path, np.float32([[-0.5, 1.5]]), 8)
    assert read_png(path).tolist() == [[0.0, 1.0]]


def test_atomic_write_leaves_only_the_final_file(tmp_path):
    write_json_atomic(tmp_path / "meta.json", {"b": 1, "a": [1, 2]})
    write_bytes_atomic(tmp_path / "data.bin", b"\x00\x01")
    write_png(tmp_path / "out.png", np.zeros((2, 2)), 8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin", "meta.json", "out.png"]
    assert (tmp_path / "meta.json").read_text() == '{\n  "b": 1,\n  "a": [\n    1,\n    2\n  ]\n}\n'


def failing_replace(source, destination):
    raise OSError("disk full")


def test_failed_atomic_write_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_png(tmp_path / "out.png", np.zeros((2, 2)), 8)
    assert list(tmp_path.iterdir()) == []


def test_failed_atomic_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "meta.json"
    write_json_atomic(path, {"version": 1})
    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_json_atomic(path, {"version": 2})
    assert list(tmp_path.iterdir()) == [path]
    assert '"version": 1' in path.read_text()


def test_reading_a_non_png_is_refused(tmp_path):
    path = tmp_path / "junk.png"
    path.write_bytes(b"not a png")
    with pytest.raises(ImageRejected):
        read_png(path)


def test_decoded_bytes_do_not_depend_on_the_file_extension(tmp_path):
    png = io.BytesIO()
    Image.fromarray(gradient()).save(png, "PNG")
    path = tmp_path / "really-a-png.jpg"
    path.write_bytes(png.getvalue())
    assert decode(path).format == "PNG"


def test_a_damaged_tiff_is_refused_without_a_log_line_besides(tmp_path, caplog):
    """The CLI prints an unhandled log record on stderr beside its one-line refusal."""
    path = tmp_path / "photo.tif"
    path.write_bytes(b"II*\x00" + bytes(200))
    with pytest.raises(ImageRejected, match="damaged TIFF"):
        decode(path)
    assert caplog.records == []
