"""Print files written strip by strip: read back by other libraries, complete or absent, never partial.

16-bit PNG is read with pypng and libvips (Pillow reads it as 8-bit); TIFF with tifffile and libvips.
The CMYK tests need Ghostscript's SWOP profile (Debian package libgs-common, which scripts/test installs).
"""

import gc
import io
import time
from types import SimpleNamespace

import numpy as np
import png
import pytest
import pyvips
import tifffile
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image, ImageCms

from rilievo.adapters import print_files
from rilievo.adapters.print_colour import (
    DEFAULT_CMYK_PROFILE,
    GAMUT_DELTA_E,
    CmykConversion,
    CmykProfileMissing,
    default_cmyk_profile,
    delta_e2000,
    limit_ink,
    profile_description,
    srgb_profile_bytes,
)
from rilievo.adapters.print_files import KINDS, needs_bigtiff, open_writer
from rilievo.domain.errors import InvalidParameter, StorageFull

DPI = 600
OTHER_RGB_PROFILE = DEFAULT_CMYK_PROFILE.with_name("default_rgb.icc")  # also from libgs-common


def picture(width: int, height: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """Smooth colour ramps plus noise, so every 16-bit value matters; alpha ramps too."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    planes = [x / width, y / height, 0.5 + 0.5 * np.sin((x + y) / 37), x * y / (width * height)][:channels]
    image = np.stack(planes, axis=-1) + rng.normal(0, 0.01, (height, width, channels))
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def write(path, image, kind, heights=None, **options):
    """Writes `image` in strips of the given heights (default: one strip)."""
    height, width, channels = image.shape
    with open_writer(path, width, height, channels, kind, DPI, **options) as writer:
        top = 0
        for count in heights or [height]:
            writer.write_rows(image[top : top + count])
            top += count
        while top < height:  # the rest in strips of the last height
            writer.write_rows(image[top : top + heights[-1]])
            top += heights[-1]
    return writer


def expected(image, bits):
    return np.rint(image * (2**bits - 1)).astype(np.uint16 if bits == 16 else np.uint8)


def read_png_with_pypng(path):
    width, height, rows, info = png.Reader(filename=str(path)).asDirect()
    values = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows])
    return values.reshape(height, width, info["planes"]), info


def read_with_vips(path):
    image = pyvips.Image.new_from_file(str(path), access="sequential")
    dtype = {"uchar": np.uint8, "ushort": np.uint16}[image.format]
    values = np.ndarray((image.height, image.width, image.bands), dtype, image.write_to_memory())
    icc = image.get("icc-profile-data") if "icc-profile-data" in image.get_fields() else None
    return values, image, icc


def total_ink(cmyk):
    """Per pixel C+M+Y+K in percent."""
    return cmyk.astype(np.float32).sum(axis=-1) * (100 / 255)


def folder_contents(folder):
    return sorted(path.name for path in folder.iterdir())


# ---- PNG -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [3, 4])
def test_png16_keeps_every_16_bit_value_the_dpi_and_the_profile(tmp_path, channels):
    image = picture(700, 300, channels)
    write(tmp_path / "print.png", image, "png16")
    values, info = read_png_with_pypng(tmp_path / "print.png")
    assert info["bitdepth"] == 16 and info["alpha"] == (channels == 4)
    assert values.shape == (300, 700, channels)
    assert np.abs(values.astype(np.int32) - expected(image, 16)).max() <= 1
    assert info["physical"].unit_is_meter and round(info["physical"].x * 0.0254) == DPI
    vips_values, vips_image, icc = read_with_vips(tmp_path / "print.png")
    np.testing.assert_array_equal(vips_values, values)  # libpng reads the same stream
    assert round(vips_image.xres * 25.4) == DPI
    assert icc == srgb_profile_bytes()


@pytest.mark.parametrize("channels", [3, 4])
def test_png8_round_trips_exactly_with_its_dpi(tmp_path, channels):
    image = picture(400, 250, channels)
    write(tmp_path / "layer.png", image, "png8")
    values, info = read_png_with_pypng(tmp_path / "layer.png")
    assert info["bitdepth"] == 8
    np.testing.assert_array_equal(values, expected(image, 8))
    assert round(info["physical"].x * 0.0254) == DPI
    assert Image.open(tmp_path / "layer.png").info["dpi"] == pytest.approx((DPI, DPI), abs=0.01)


@pytest.mark.parametrize("kind", ["png16", "png8", "tiff16", "tiff", "preview-jpeg"])
def test_the_rgb_profile_asked_for_is_the_one_embedded(tmp_path, kind):
    profile = OTHER_RGB_PROFILE.read_bytes()
    assert profile != srgb_profile_bytes()
    write(tmp_path / "print", picture(300, 200), kind, icc_profile=profile)
    assert read_with_vips(tmp_path / "print")[2] == profile


# ---- TIFF ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, bits", [("tiff16", 16), ("tiff", 8)])
@pytest.mark.parametrize("channels", [3, 4])
def test_tiff_is_tiled_deflated_and_keeps_values_dpi_profile_and_alpha(tmp_path, kind, bits, channels):
    image = picture(600, 530, channels)  # edge tiles on both sides
    write(tmp_path / "print.tif", image, kind)
    with tifffile.TiffFile(tmp_path / "print.tif") as tiff:
        page = tiff.pages[0]
        np.testing.assert_array_equal(page.asarray(), expected(image, bits))
        assert not tiff.is_bigtiff
        assert page.is_tiled and (page.tilelength, page.tilewidth) == (256, 256)
        assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        assert page.predictor == tifffile.PREDICTOR.HORIZONTAL
        assert page.photometric == tifffile.PHOTOMETRIC.RGB
        assert page.resolution == (DPI, DPI) and page.resolutionunit == tifffile.RESUNIT.INCH
        assert page.tags["InterColorProfile"].value == srgb_profile_bytes()
        extra = page.tags["ExtraSamples"].value if "ExtraSamples" in page.tags else ()
        assert tuple(extra) == ((tifffile.EXTRASAMPLE.UNASSALPHA,) if channels == 4 else ())
    np.testing.assert_array_equal(read_with_vips(tmp_path / "print.tif")[0], expected(image, bits))


def test_bigtiff_is_chosen_once_the_pixels_pass_four_gigabytes():
    assert not needs_bigtiff(14_400, 21_600, 3, 2)  # 24 x 36 in at 600 DPI, RGB16: 1.9 GB
    assert not needs_bigtiff(14_400, 21_600, 4, 2)  # RGBA16: 2.5 GB
    assert needs_bigtiff(28_800, 21_600, 4, 2)  # 5.0 GB
    assert not needs_bigtiff(1_000_000, 1_000, 4, 1)  # exactly 4e9 bytes
    assert needs_bigtiff(1_000_001, 1_000, 4, 1)


def test_a_tiff_over_the_threshold_is_written_as_bigtiff(tmp_path, monkeypatch):
    monkeypatch.setattr(print_files, "BIGTIFF_ABOVE_BYTES", 100_000)
    image = picture(300, 200)
    write(tmp_path / "print.tif", image, "tiff16")
    with tifffile.TiffFile(tmp_path / "print.tif") as tiff:
        assert tiff.is_bigtiff
        np.testing.assert_array_equal(tiff.asarray(), expected(image, 16))


# ---- CMYK ------------------------------------------------------------------------------------------


def in_gamut_chart(patch=12):
    """sRGB patches made from moderate CMYK inks, so the press can print every one of them."""
    levels = np.array([0, 40, 80, 130, 180], np.uint8)
    inks = np.stack(np.meshgrid(levels, levels, levels, [0, 60, 120], indexing="ij"), -1).reshape(-1, 4)
    inks = inks[total_ink(inks) <= 260].astype(np.uint8)
    colours = CmykConversion.from_profile(intent="relative").to_rgb(inks[None])[0]
    colours = colours[((colours > 0.02) & (colours < 0.98)).all(axis=-1)]  # and inside sRGB
    side = int(np.ceil(np.sqrt(len(colours))))
    chart = np.ones((side * patch, side * patch, 3), np.float32)
    for index, colour in enumerate(colours):
        row, column = divmod(index, side)
        chart[row * patch : (row + 1) * patch, column * patch : (column + 1) * patch] = colour
    return chart, colours, side


def cmyk_tiff_to_srgb(path):
    """Independent of the adapter: the TIFF's own profile through LittleCMS to sRGB."""
    with tifffile.TiffFile(path) as tiff:
        cmyk, profile = tiff.pages[0].asarray(), bytes(tiff.pages[0].tags["InterColorProfile"].value)
    image = Image.frombuffer("CMYK", cmyk.shape[1::-1], cmyk.tobytes(), "raw", "CMYK", 0, 1)
    rgb = ImageCms.profileToProfile(
        image,
        ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")),
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
        outputMode="RGB",
        flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
    )
    return np.asarray(rgb).astype(np.float32) / 255


@pytest.mark.parametrize("intent", ["perceptual", "relative"])
def test_cmyk_tiff_prints_in_gamut_colours_within_one_delta_e_on_average(tmp_path, intent):
    """Measured: mean ΔE2000 0.6, 95th percentile 1.0 for either intent; asserted: 1.0 and 2.0."""
    chart, colours, side = in_gamut_chart()
    write(tmp_path / "print.tif", chart, "cmyk-tiff", cmyk=CmykConversion.from_profile(intent=intent))
    back = cmyk_tiff_to_srgb(tmp_path / "print.tif")
    centres = back[6::12, 6::12].reshape(-1, 3)[: len(colours)]
    delta = delta_e2000(colours, centres)
    assert delta.mean() < 1.0 and np.percentile(delta, 95) < 2.0, (delta.mean(), np.percentile(delta, 95))


@pytest.mark.parametrize("channels", [3, 4])
def test_cmyk_tiff_is_8_bit_separated_with_its_profile_and_dpi(tmp_path, channels):
    image = picture(300, 280, channels)
    write(tmp_path / "print.tif", image, "cmyk-tiff", heights=[50])
    with tifffile.TiffFile(tmp_path / "print.tif") as tiff:
        page = tiff.pages[0]
        assert page.photometric == tifffile.PHOTOMETRIC.SEPARATED and page.tags["InkSet"].value == 1
        assert page.shape == (280, 300, 4) and page.dtype == np.uint8 and page.is_tiled
        assert page.resolution == (DPI, DPI) and page.resolutionunit == tifffile.RESUNIT.INCH
        assert page.tags["InterColorProfile"].value == DEFAULT_CMYK_PROFILE.read_bytes()
        stored = page.asarray()
    conversion = CmykConversion.from_profile()
    np.testing.assert_array_equal(stored, conversion.to_cmyk(image))
    over_white = image if channels == 3 else image[..., :3] * image[..., 3:] + (1 - image[..., 3:])
    assert np.abs(stored.astype(int) - conversion.to_cmyk(over_white)).max() <= 1  # 16-bit rounding apart
    _, vips_image, _ = read_with_vips(tmp_path / "print.tif")
    assert vips_image.interpretation == "cmyk"


def test_the_ink_limit_caps_total_ink_and_keeps_black(tmp_path):
    dark = np.zeros((64, 96, 3), np.float32)
    dark[:, 32:64] = (0.25, 0.05, 0.1)  # deep red-brown
    dark[:, 64:] = (0.05, 0.1, 0.3)  # deep blue
    free = CmykConversion.from_profile().to_cmyk(dark)
    assert total_ink(free).max() > 290  # SWOP's own limit is about 300%
    write(tmp_path / "print.tif", dark, "cmyk-tiff", cmyk=CmykConversion.from_profile(ink_limit=260))
    limited = tifffile.imread(tmp_path / "print.tif")
    assert total_ink(limited).max() <= 260
    assert (total_ink(limited) < total_ink(free)).any()
    np.testing.assert_array_equal(limited[..., 3], free[..., 3])  # K under the limit stays as it was


@settings(max_examples=200)
@given(arrays(np.uint8, (7, 5, 4)), st.floats(100, 400))
def test_limit_ink_never_exceeds_the_limit_and_changes_only_what_is_over(cmyk, percent):
    """Total ink <= limit; no ink grows; pixels under the limit and black under the limit are kept."""
    image = pyvips.Image.new_from_memory(cmyk.tobytes(), 5, 7, 4, "uchar").copy(interpretation="cmyk")
    limited = np.ndarray(cmyk.shape, np.uint8, limit_ink(image, percent).write_to_memory())
    assert (total_ink(limited) <= percent + 1e-3).all()
    assert (limited <= cmyk).all()
    under = total_ink(cmyk) <= percent
    np.testing.assert_array_equal(limited[under], cmyk[under])
    keep_black = cmyk[..., 3] <= np.floor(percent / 100 * 255)
    np.testing.assert_array_equal(limited[..., 3][keep_black], cmyk[..., 3][keep_black])


def test_the_default_cmyk_profile_is_ghostscripts_swop_and_has_a_name():
    assert default_cmyk_profile() == DEFAULT_CMYK_PROFILE
    assert profile_description(DEFAULT_CMYK_PROFILE) == "Artifex CMYK SWOP Profile"
    assert CmykConversion.from_profile().description == "Artifex CMYK SWOP Profile"


def test_a_missing_default_profile_names_the_package_to_install(tmp_path, monkeypatch):
    from rilievo.adapters import print_colour

    monkeypatch.setattr(print_colour, "DEFAULT_CMYK_PROFILE", tmp_path / "absent.icc")
    with pytest.raises(CmykProfileMissing, match="libgs-common"):
        default_cmyk_profile()
    with pytest.raises(CmykProfileMissing, match="libgs-common"):
        open_writer(tmp_path / "print.tif", 10, 10, 3, "cmyk-tiff", DPI)
    assert folder_contents(tmp_path) == []


def test_a_profile_that_is_not_cmyk_is_refused(tmp_path):
    (tmp_path / "srgb.icc").write_bytes(srgb_profile_bytes())
    with pytest.raises(InvalidParameter, match="not CMYK"):
        CmykConversion(tmp_path / "srgb.icc")


# ---- previews --------------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [3, 4])
def test_the_jpeg_preview_is_the_area_average_at_most_long_side_pixels(tmp_path, channels):
    image = picture(1003, 702, channels)
    writer = write(tmp_path / "preview.jpg", image, "preview-jpeg", heights=[33], preview_long_side=256)
    preview = Image.open(tmp_path / "preview.jpg")
    assert preview.size == (251, 176)  # factor 4, the last block of rows and columns narrower
    assert preview.info["dpi"] == pytest.approx((DPI / 4, DPI / 4), abs=0.5)
    assert preview.info["icc_profile"] == srgb_profile_bytes()
    rgb = image if channels == 3 else image[..., :3] * image[..., 3:] + (1 - image[..., 3:])
    reference = rgb[:700, :1000].reshape(175, 4, 250, 4, 3).mean(axis=(1, 3))
    got = np.asarray(preview).astype(np.float32)[:175, :250] / 255
    assert np.abs(got - reference).mean() < 2 / 255  # JPEG at quality 90
    assert writer.rows_written == 702


def test_the_default_preview_long_side_is_2048(tmp_path):
    write(tmp_path / "preview.jpg", picture(2100, 300), "preview-jpeg")
    assert Image.open(tmp_path / "preview.jpg").size == (1050, 150)


def test_the_soft_proof_hatches_what_swop_cannot_print_and_nothing_else(tmp_path):
    chart, _, _ = in_gamut_chart(patch=8)
    size = chart.shape[0]
    image = np.ones((size, size * 2, 3), np.float32)
    image[:, :size] = chart
    image[:, size:] = (0.0, 0.2, 1.0)  # saturated sRGB blue: far outside SWOP
    image[size // 2 :, size:] = (0.0, 1.0, 0.2)  # and green
    writer = write(tmp_path / "proof.jpg", image, "proof-jpeg", heights=[40])
    summary = writer.summary
    assert summary.profile == "Artifex CMYK SWOP Profile" and summary.gamut_delta_e == GAMUT_DELTA_E
    assert summary.out_of_gamut_fraction == pytest.approx(0.5, abs=0.02)
    proof = np.asarray(Image.open(tmp_path / "proof.jpg")).astype(np.float32) / 255
    plain = CmykConversion.from_profile().round_trip(image)  # the proof before marking
    assert proof.shape == plain.shape
    marked = np.abs(proof - plain).max(axis=-1) > 0.25
    assert 0.3 < marked[:, size + 2 : -2].mean() < 0.7  # hatched: stripes over about half the area
    assert marked[:, : size - 2].mean() < 0.01
    shift = (proof - plain)[marked].mean(axis=0)
    assert shift[0] > 0.2 and shift[1] < -0.2 and shift[2] > 0.0  # towards magenta


# ---- all or nothing --------------------------------------------------------------------------------

ALL_KINDS = pytest.mark.parametrize("kind", KINDS)


@ALL_KINDS
def test_an_error_mid_way_leaves_no_file(tmp_path, kind):
    image = picture(300, 600)
    with pytest.raises(RuntimeError, match="the pipeline broke"):
        with open_writer(tmp_path / "print", 300, 600, 3, kind, DPI) as writer:
            writer.write_rows(image[:300])
            raise RuntimeError("the pipeline broke")
    assert folder_contents(tmp_path) == []


@ALL_KINDS
def test_too_few_rows_leave_no_file(tmp_path, kind):
    writer = open_writer(tmp_path / "print", 300, 600, 3, kind, DPI)
    writer.write_rows(picture(300, 599))
    with pytest.raises(ValueError, match="599 of 600 rows"):
        writer.close()
    assert folder_contents(tmp_path) == []


@ALL_KINDS
def test_too_many_rows_leave_no_file(tmp_path, kind):
    with pytest.raises(ValueError, match="more than the image's 600"):
        with open_writer(tmp_path / "print", 300, 600, 3, kind, DPI) as writer:
            writer.write_rows(picture(300, 400))
            writer.write_rows(picture(300, 201))
    assert folder_contents(tmp_path) == []


@ALL_KINDS
def test_a_writer_dropped_unclosed_leaves_no_file(tmp_path, kind):
    writer = open_writer(tmp_path / "print", 300, 600, 3, kind, DPI)
    writer.write_rows(picture(300, 300))
    del writer
    gc.collect()
    assert folder_contents(tmp_path) == []


def test_the_file_is_encoded_while_its_rows_are_still_coming(tmp_path):
    image = picture(2000, 1200, 4)
    with open_writer(tmp_path / "print.png", 2000, 1200, 4, "png16", DPI) as writer:
        for top in range(0, 600, 100):
            writer.write_rows(image[top : top + 100])
        deadline = time.monotonic() + 30
        while not any(path.stat().st_size for path in tmp_path.glob(".print.png.partial-*")):
            assert time.monotonic() < deadline, "nothing was encoded before the last row"
            time.sleep(0.01)
        writer.write_rows(image[600:])
    values, _ = read_png_with_pypng(tmp_path / "print.png")
    np.testing.assert_array_equal(values.reshape(image.shape), expected(image, 16))


def test_an_encoder_that_fails_stops_the_writer_at_its_next_rows(tmp_path, monkeypatch):
    def out_of_space(image, path, **options):
        raise pyvips.Error("unable to write to target: No space left on device")

    monkeypatch.setattr(print_files, "_png", out_of_space)
    writer = open_writer(tmp_path / "print.png", 300, 6000, 3, "png16", DPI)
    with pytest.raises(StorageFull):
        for top in range(0, 6000, 100):  # far more rows than the writer holds for its encoder
            writer.write_rows(picture(300, 100))
    assert folder_contents(tmp_path) == []


VIPS_WRITE_FAILED = "unable to call pngsave\n  vips2png: unable to write to target /x/.print.png.partial\n"


def failing_png_writer(tmp_path, monkeypatch, free_bytes: int):
    """A png encoder whose libvips error lost the system's reason, in a folder with free_bytes left."""
    def failed(image, path, **options):
        raise pyvips.Error(VIPS_WRITE_FAILED)

    monkeypatch.setattr(print_files, "_png", failed)
    monkeypatch.setattr(print_files.shutil, "disk_usage", lambda folder: SimpleNamespace(free=free_bytes))
    return open_writer(tmp_path / "print.png", 300, 100, 3, "png16", DPI)


def test_a_vips_write_that_fails_with_the_folder_nearly_full_is_a_full_disk(tmp_path, monkeypatch):
    with pytest.raises(StorageFull, match="^the disk is full: writing .*print.png failed$"):
        with failing_png_writer(tmp_path, monkeypatch, free_bytes=4096) as writer:
            writer.write_rows(picture(300, 100))
    assert folder_contents(tmp_path) == []


def test_a_vips_write_that_fails_with_room_left_fails_in_one_line(tmp_path, monkeypatch):
    with pytest.raises(print_files.PrintFileFailed) as failed:
        with failing_png_writer(tmp_path, monkeypatch, free_bytes=1 << 30) as writer:
            writer.write_rows(picture(300, 100))
    assert str(failed.value) == ("writing print.png failed: unable to call pngsave vips2png: unable to write to "
                                 "target /x/.print.png.partial")
    assert folder_contents(tmp_path) == []


def one_sample(value: float) -> np.ndarray:
    strip = np.full((5, 300, 3), 0.5, np.float32)
    strip[3, 217, 1] = value
    return strip


@pytest.mark.parametrize("bad", [np.zeros((5, 299, 3), np.float32), np.zeros((5, 300, 4), np.float32),
                                 np.zeros((5, 300, 3), np.uint8), np.full((5, 300, 3), np.nan, np.float32),
                                 one_sample(np.nan), one_sample(np.inf), one_sample(-np.inf)])
def test_a_malformed_strip_is_refused_and_leaves_no_file(tmp_path, bad):
    writer = open_writer(tmp_path / "print.png", 300, 10, 3, "png16", DPI)
    with pytest.raises(ValueError):
        writer.write_rows(bad)
    assert folder_contents(tmp_path) == []


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    write(tmp_path / "print.tif", picture(200, 100), "tiff16")
    before = (tmp_path / "print.tif").read_bytes()
    with pytest.raises(ValueError):
        with open_writer(tmp_path / "print.tif", 200, 100, 3, "tiff16", DPI) as writer:
            writer.write_rows(picture(200, 50, seed=1))
    assert (tmp_path / "print.tif").read_bytes() == before
    assert folder_contents(tmp_path) == ["print.tif"]


@ALL_KINDS
def test_uneven_strips_make_the_same_file_as_one_strip(tmp_path, kind):
    image = picture(520, 700, 4, seed=5)
    write(tmp_path / "whole", image, kind, preview_long_side=200)
    write(tmp_path / "strips", image, kind, heights=[1, 37, 300, 2, 255, 105], preview_long_side=200)
    assert (tmp_path / "strips").read_bytes() == (tmp_path / "whole").read_bytes()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(kind="webp"), "kind must be one of"),
        (dict(channels=2), "3 \\(RGB\\) or 4"),
        (dict(width=0), "width must be"),
        (dict(dpi=0), "dpi must be positive"),
        (dict(level=0), "level must be 1-9"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, arguments, message):
    call = dict(path=tmp_path / "print", width=10, height=10, channels=3, kind="png16", dpi=DPI) | arguments
    with pytest.raises(InvalidParameter, match=message):
        open_writer(**call)
    assert folder_contents(tmp_path) == []


def test_a_gray_mask_is_a_gray_png_without_a_colour_profile(tmp_path):
    mask = picture(40, 30)[..., :1]
    with open_writer(tmp_path / "white.png", 40, 30, 1, "png8", DPI) as writer:
        writer.write_rows(mask[:11])
        writer.write_rows(mask[11:])
    width, height, rows, info = png.Reader(filename=str(tmp_path / "white.png")).read()
    values = np.vstack([np.asarray(row, np.uint16) for row in rows]).reshape(30, 40, 1)
    assert (width, height, info["planes"], info["bitdepth"]) == (40, 30, 1, 8) and info["greyscale"]
    np.testing.assert_array_equal(values, expected(mask, 8))
    assert "icc_profile" not in Image.open(tmp_path / "white.png").info


def test_only_png_takes_gray_strips(tmp_path):
    with pytest.raises(InvalidParameter, match="channels"):
        open_writer(tmp_path / "white.tif", 40, 30, 1, "tiff", DPI)


MEMORY_PROBE = r"""
import resource, sys
import numpy as np
from pathlib import Path
from rilievo.adapters.print_files import open_writer

width, height = 6000, 4000  # RGBA16: 192 MB of samples
rows = np.tile(np.linspace(0, 1, width, dtype=np.float32)[None, :, None], (100, 1, 4))
with open_writer(Path(sys.argv[1]), width, height, 4, "png16", 300, level=1) as writer:
    for top in range(0, height, 100):
        writer.write_rows(rows)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_encoding_holds_a_few_strips_not_the_whole_image(tmp_path):
    """The writer waits for its encoder rather than holding rows it has not read; and libvips maps a raw
    file whole, so the process's memory grew by the file's size while encoding a raw spool."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(tmp_path / "print.png")], capture_output=True,
                          text=True, check=True)
    growth_mib = int(done.stdout.strip())
    assert growth_mib < 100, f"encoding grew the peak memory by {growth_mib} MiB for 183 MiB of samples"
    assert (tmp_path / "print.png").is_file()


LIBVIPS_ROWS_PROBE = r"""
import ctypes, sys
import numpy as np
from pathlib import Path
from rilievo.adapters import print_files

width, height = 4243, 1200  # a 12 MP photo's width, RGB16
rows = np.tile(np.linspace(0, 1, width, dtype=np.float32)[None, :, None], (100, 1, 3))
with print_files.open_writer(Path(sys.argv[1]), width, height, 3, "png16", 300) as writer:
    for top in range(0, height, 100):
        writer.write_rows(rows)
vips = print_files._libvips()
vips.vips_tracked_get_mem_highwater.restype = ctypes.c_size_t
print(vips.vips_tracked_get_mem_highwater() / (width * 3 * 2), print_files.LIBVIPS_ROWS_HELD)
"""


def test_libvips_holds_no_more_of_a_streamed_files_rows_than_the_budget_counts(tmp_path):
    """libvips' tile heights are set lower (its own buffers held 1,090 rows of this file with its
    defaults), and the streaming budget counts what it then holds, by libvips' own count."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", LIBVIPS_ROWS_PROBE, str(tmp_path / "print.png")],
                          capture_output=True, text=True, check=True)
    held, counted = map(float, done.stdout.split())
    assert held <= counted <= 400, f"libvips held {held:.0f} rows; the budget counts {counted:.0f}"


@pytest.mark.parametrize("kind, bits", [("png16", 16), ("png8", 8)])
def test_samples_round_halves_to_even_and_clip_to_the_range(tmp_path, kind, bits):
    top = 2**bits - 1
    image = np.zeros((2, 8, 3), np.float32)
    image[0, :, 0] = np.array([0.5, 1.5, 2.5, 3.5, top - 0.5, 7.25, 7.75, 0], np.float32) / top
    image[1, :, 1] = [-0.5, -1e-3, 1.001, 2.0, 1.0, 0.0, 1e-9, 1 - 1e-9]
    write(tmp_path / "print.png", image, kind)
    values, _ = read_png_with_pypng(tmp_path / "print.png")
    want = np.rint(np.clip(image * np.float32(top), 0, top))  # the float32 product, as written
    np.testing.assert_array_equal(values.reshape(image.shape), want)


@pytest.mark.parametrize("kind", ["png16", "tiff", "cmyk-tiff"])
def test_files_opened_once_the_streaming_budget_is_taken_are_spooled_and_the_same(tmp_path, monkeypatch, kind):
    image = picture(300, 200, 4 if kind != "cmyk-tiff" else 3)
    streamed = write(tmp_path / "streamed", image, kind, heights=[64]).path.read_bytes()
    held = print_files.LIBVIPS_ROWS_HELD * 300 * image.shape[2] * 2
    monkeypatch.setattr(print_files, "_STREAMING", print_files._Budget(held))  # room for one stream
    with open_writer(tmp_path / "first", 300, 200, image.shape[2], "png16", DPI) as first:
        first.write_rows(image[:10])
        spooled = write(tmp_path / "spooled", image, kind, heights=[64])
        assert isinstance(spooled._store, print_files._Spool)
        first.write_rows(image[10:])
    assert spooled.path.read_bytes() == streamed
    assert folder_contents(tmp_path) == ["first", "spooled", "streamed"]
    again = write(tmp_path / "again", image, kind, heights=[64])  # the first stream gave its budget back
    assert isinstance(again._store, print_files._Stream)


def test_a_file_asked_not_to_stream_is_spooled_with_the_budget_free_and_the_same(tmp_path):
    image = picture(300, 200, 4)
    streamed = write(tmp_path / "streamed", image, "png16", heights=[64]).path.read_bytes()
    with open_writer(tmp_path / "spooled", 300, 200, 4, "png16", DPI, stream=False) as writer:
        assert isinstance(writer._store, print_files._Spool)
        writer.write_rows(image)
    assert writer.path.read_bytes() == streamed


def test_a_failed_spooled_writer_leaves_no_spool(tmp_path, monkeypatch):
    monkeypatch.setattr(print_files, "_STREAMING", print_files._Budget(0))
    writer = open_writer(tmp_path / "print.png", 300, 200, 3, "png16", DPI)
    writer.write_rows(picture(300, 100))
    assert [name for name in folder_contents(tmp_path) if ".spool-" in name]
    with pytest.raises(ValueError):
        writer.close()
    assert folder_contents(tmp_path) == []
