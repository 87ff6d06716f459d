"""Fuzzing the image-ingest boundary with damaged, truncated and hostile versions of real files.

Each seed is a small file of a kind Rilievo accepts. Hypothesis mutates its bytes, and the decoder must
either return well-formed pixels or raise ImageRejected with a one-line message: no other exception,
no hang, and no allocation beyond what the pixel limit allows.
"""

import contextlib
import io
import signal
import struct
import sys
import zlib
from functools import cache

import cv2
import numpy as np
import pytest
import skimage.data
import tifffile
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageFile

from rilievo.adapters.image_io import PillowImageDecoder
from rilievo.domain.errors import ImageRejected

# Pillow warns about every oddity it skips over in a damaged file; here they are expected.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL")

MAX_PIXELS = 1_000_000  # far above every seed (48x32), far below any absurd header
HANG_SECONDS = 10  # the hypothesis deadline reports slow examples; this stops a real hang
HEADROOM = 1 << 30  # address space a decode may take beyond what the process holds already

fuzz_settings = settings(max_examples=150, deadline=3000)


# --- seeds ----------------------------------------------------------------------------------


def photo(width=48, height=32) -> np.ndarray:
    """A small piece of a real photo, so the encoders see real texture."""
    return np.asarray(Image.fromarray(skimage.data.astronaut()).resize((width, height)))


def rgb() -> Image.Image:
    return Image.fromarray(photo())


def rgb16() -> np.ndarray:
    return photo().astype(np.uint16) * 257


def encoded(img: Image.Image, format: str, **params) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format, **params)
    return buffer.getvalue()


def renamed_srgb_profile() -> bytes:
    """A valid RGB profile whose name is not sRGB, so the decoder runs a real colour conversion."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[84:100] = bytes(16)  # profile ID: all zeros means "not computed"
    return bytes(profile).replace("sRGB".encode("utf-16-be"), "Fuzz".encode("utf-16-be"))


def exif_rotated() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6
    return exif


def with_exif_chunk(png: bytes) -> bytes:
    """Adds an eXIf chunk after IHDR (Pillow cannot write one into a 16-bit RGB PNG)."""
    return png[:33] + png_chunk(b"eXIf", exif_rotated().tobytes()[len(b"Exif\x00\x00") :]) + png[33:]


def tifffile_bytes(pixels: np.ndarray, **params) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, pixels, **params)
    return buffer.getvalue()


def with_second_picture() -> bytes:
    """A JPEG with an MPF index and a second, smaller picture, as phones write them (depth, gain map)."""
    return encoded(rgb(), "MPO", save_all=True, append_images=[rgb().resize((24, 16))])


def palette_with_transparency() -> Image.Image:
    img = rgb().quantize(16)
    img.info["transparency"] = 0
    return img


SEEDS = {  # kind -> (file name, how to build it)
    "jpeg": ("photo.jpg", lambda: encoded(rgb(), "JPEG", quality=90)),
    "jpeg-progressive": ("photo.jpg", lambda: encoded(rgb(), "JPEG", progressive=True)),
    "jpeg-cmyk": ("cmyk.jpg", lambda: encoded(rgb().convert("CMYK"), "JPEG")),
    "jpeg-exif-rotated": ("turned.jpg", lambda: encoded(rgb(), "JPEG", exif=exif_rotated())),
    "jpeg-icc": ("tagged.jpg", lambda: encoded(rgb(), "JPEG", icc_profile=renamed_srgb_profile())),
    "jpeg-mpo": ("phone.jpg", with_second_picture),
    "png-rgb8": ("photo.png", lambda: encoded(rgb(), "PNG")),
    "png-rgb16": ("rgb16.png", lambda: cv2.imencode(".png", rgb16()[..., ::-1])[1].tobytes()),
    "png-exif-rotated": ("turned.png", lambda: encoded(rgb(), "PNG", exif=exif_rotated())),
    "png-rgb16-exif-rotated": ("turned16.png", lambda: with_exif_chunk(seed("png-rgb16"))),
    "png-gray16": ("gray16.png", lambda: encoded(Image.fromarray(rgb16()[..., 0].copy()), "PNG")),
    "png-palette": ("palette.png", lambda: encoded(palette_with_transparency(), "PNG", transparency=0)),
    "png-icc": ("tagged.png", lambda: encoded(rgb(), "PNG", icc_profile=renamed_srgb_profile())),
    "tiff-pillow8": ("photo.tif", lambda: encoded(rgb(), "TIFF")),
    "tiff-exif-rotated": ("turned.tif", lambda: encoded(rgb(), "TIFF", exif=exif_rotated())),
    "tiff-cmyk": ("cmyk.tif", lambda: encoded(rgb().convert("CMYK"), "TIFF", compression="tiff_lzw")),
    "tiff-rgb16": ("rgb16.tif", lambda: tifffile_bytes(rgb16(), photometric="rgb")),
    "tiff-gray16-zlib": ("gray16.tif", lambda: tifffile_bytes(rgb16()[..., 1], compression="zlib")),
    "webp-lossy": ("photo.webp", lambda: encoded(rgb(), "WEBP", quality=80)),
    "webp-exif-rotated": ("turned.webp", lambda: encoded(rgb(), "WEBP", exif=exif_rotated())),
    "webp-lossless-rgba": ("alpha.webp", lambda: encoded(rgb().convert("RGBA"), "WEBP", lossless=True)),
}


@cache
def seed(kind: str) -> bytes:
    return SEEDS[kind][1]()


# --- mutations ------------------------------------------------------------------------------

# Values that tend to break length, offset and size fields.
INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]
ABSURD_SIDES = st.sampled_from([0, 1, 65535, 100_000, 2**24 - 1, 2**31 - 1, 2**32 - 1]) | st.integers(0, 2**32 - 1)


def offset_in(draw, data: bytes) -> int:
    """An offset into data: often within the headers, or at the start of a chunk or segment."""
    if not data:
        return 0
    starts = [start for start, _ in chunk_spans(data)] or [0]
    near_a_start = st.builds(lambda start, delta: start + delta, st.sampled_from(starts), st.integers(0, 24))
    at = draw(st.integers(0, min(len(data), 300) - 1) | st.integers(0, len(data) - 1) | near_a_start)
    return min(at, len(data) - 1)


def truncate(draw, data):
    return data[: offset_in(draw, data)]


def overwrite(draw, data):
    at = offset_in(draw, data)
    replacement = draw(st.binary(min_size=1, max_size=8))
    return data[:at] + replacement + data[at + len(replacement) :]


def flip_bits(draw, data):
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        if data:
            data[offset_in(draw, data)] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


def write_interesting_value(draw, data):
    at = offset_in(draw, data)
    size, order = draw(st.sampled_from([(1, ">"), (2, ">"), (2, "<"), (4, ">"), (4, "<")]))
    value = draw(st.sampled_from(INTERESTING)) & ((1 << (8 * size)) - 1)
    return data[:at] + value.to_bytes(size, "big" if order == ">" else "little") + data[at + size :]


def insert_run(draw, data):
    at = offset_in(draw, data)
    return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]


def delete_run(draw, data):
    at = offset_in(draw, data)
    return data[:at] + data[at + draw(st.integers(1, 64)) :]


def duplicate_chunk(draw, data):
    """Repeats a whole PNG chunk, JPEG segment or RIFF chunk in place; any run of bytes otherwise."""
    spans = chunk_spans(data)
    if spans:
        start, end = draw(st.sampled_from(spans))
    else:
        start = offset_in(draw, data)
        end = start + draw(st.integers(1, 256))
    return data[:end] + data[start:end] + data[end:]


def absurd_dimensions(draw, data):
    """Writes huge (or zero) sizes into the header, keeping its checksum valid where there is one."""
    return with_dimensions(data, draw(ABSURD_SIDES), draw(ABSURD_SIDES))


MUTATIONS = [
    truncate,
    overwrite,
    flip_bits,
    write_interesting_value,
    insert_run,
    delete_run,
    duplicate_chunk,
    absurd_dimensions,
]


@st.composite
def mutants(draw, kind: str) -> bytes:
    data = seed(kind)
    for _ in range(draw(st.integers(1, 3))):
        data = draw(st.sampled_from(MUTATIONS))(draw, data)
    if data.startswith(PNG_SIGNATURE) and draw(st.booleans()):
        data = with_png_crcs_fixed(data)  # otherwise most PNG damage stops at the first CRC check
    return data


# --- format structure -----------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOF_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def chunk_spans(data: bytes) -> list[tuple[int, int]]:
    spans = []
    if data.startswith(PNG_SIGNATURE):
        at = 8
        while at + 12 <= len(data):
            end = at + 12 + int.from_bytes(data[at : at + 4], "big")
            spans.append((at, min(end, len(data))))
            at = end
    elif data.startswith(b"\xff\xd8"):
        at = 2
        while at + 4 <= len(data) and data[at] == 0xFF and data[at + 1] != 0xDA:  # up to start of scan
            end = at + 2 + int.from_bytes(data[at + 2 : at + 4], "big")
            spans.append((at, min(end, len(data))))
            at = end
    elif data.startswith(b"RIFF"):
        at = 12
        while at + 8 <= len(data):
            end = at + 8 + int.from_bytes(data[at + 4 : at + 8], "little")
            end += end % 2
            spans.append((at, min(end, len(data))))
            at = end
    return spans


def with_png_crcs_fixed(data: bytes) -> bytes:
    out, at = bytearray(data[:8]), 8
    for start, end in chunk_spans(data):
        if end - start < 12:
            break
        out += data[start : end - 4] + struct.pack(">I", zlib.crc32(data[start + 4 : end - 4]))
        at = end
    return bytes(out + data[at:])


def with_dimensions(data: bytes, width: int, height: int) -> bytes:
    data = bytearray(data)
    if data.startswith(PNG_SIGNATURE) and len(data) >= 33:
        data[16:24] = struct.pack(">II", width, height)
        data[29:33] = struct.pack(">I", zlib.crc32(data[12:29]))
    elif data.startswith(b"\xff\xd8"):
        at = 2
        while at + 9 <= len(data) and data[at] == 0xFF:
            if data[at + 1] in JPEG_SOF_MARKERS:
                data[at + 5 : at + 9] = struct.pack(">HH", height & 0xFFFF, width & 0xFFFF)
                break
            at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    elif data[:4] in (b"II*\x00", b"MM\x00*") and len(data) >= 8:
        order = "<" if data[:2] == b"II" else ">"
        (ifd,) = struct.unpack(order + "I", data[4:8])
        if ifd + 2 <= len(data):
            (count,) = struct.unpack(order + "H", data[ifd : ifd + 2])
            for entry in range(ifd + 2, min(ifd + 2 + 12 * count, len(data) - 11), 12):
                (tag,) = struct.unpack(order + "H", data[entry : entry + 2])
                if tag in (256, 257):  # ImageWidth, ImageLength, rewritten as LONG
                    value = width if tag == 256 else height
                    data[entry + 2 : entry + 12] = struct.pack(order + "HII", 4, 1, value)
    elif data.startswith(b"RIFF") and len(data) >= 30:
        w, h = max(width - 1, 0), max(height - 1, 0)
        if data[12:16] == b"VP8X":  # canvas size minus one, 24 bits each
            data[24:30] = (w & 0xFFFFFF).to_bytes(3, "little") + (h & 0xFFFFFF).to_bytes(3, "little")
        elif data[12:16] == b"VP8L":  # 14 bits each after the signature byte
            packed = int.from_bytes(data[21:25], "little") & ~((1 << 28) - 1)
            data[21:25] = (packed | (w & 0x3FFF) | (h & 0x3FFF) << 14).to_bytes(4, "little")
        elif data[12:16] == b"VP8 ":  # 14 bits each, after the frame tag and start code
            data[26:30] = struct.pack("<HH", width & 0x3FFF, height & 0x3FFF)
    return bytes(data)


# --- the property ---------------------------------------------------------------------------


class DecodeHung(BaseException):
    """A BaseException, so no `except Exception` inside the decoder can swallow it."""


@contextlib.contextmanager
def bounded(seconds: int, headroom: int):
    """Fails a decode that runs for `seconds`, and makes one that maps `headroom` more bytes fail.

    Linux only: elsewhere the decode runs unguarded and only the hypothesis deadline applies.
    """
    if not sys.platform.startswith("linux"):
        yield
        return
    import resource

    def hung(signum, frame):
        raise DecodeHung(f"decoding took over {seconds} s")

    previous_handler = signal.signal(signal.SIGALRM, hung)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = mapped_bytes() + headroom
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.signal(signal.SIGALRM, previous_handler)


def mapped_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def assert_decodes_cleanly_or_is_rejected(path, data: bytes) -> None:
    """Both entry points: decode (colour-managed RGB) and decode_values (raw values, e.g. depth maps)."""
    path.write_bytes(data)
    decoder = PillowImageDecoder(max_pixels=MAX_PIXELS)
    try:
        with bounded(HANG_SECONDS, HEADROOM):
            decoded = decoder.decode(path)
    except ImageRejected as e:
        assert_one_clear_line(str(e), path.name)
    else:
        assert decoded.format in ("JPEG", "PNG", "TIFF", "WEBP")
        assert decoded.pixels.shape == (decoded.height, decoded.width, 3)
        assert_valid_pixels(decoded.pixels)
    try:
        with bounded(HANG_SECONDS, HEADROOM):
            values = decoder.decode_values(path)
    except ImageRejected as e:
        assert_one_clear_line(str(e), path.name)
    else:
        assert values.ndim == 2
        assert_valid_pixels(values)


def assert_one_clear_line(message: str, name: str) -> None:
    assert message.startswith(name + " ") and "\n" not in message and len(message) < 300, message


def assert_valid_pixels(pixels: np.ndarray) -> None:
    assert pixels.dtype == np.float32 and 0 < pixels.shape[0] * pixels.shape[1] <= MAX_PIXELS
    assert np.isfinite(pixels).all() and pixels.min() >= 0.0 and pixels.max() <= 1.0


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("kind", SEEDS)
def test_every_seed_decodes_unharmed(fuzz_dir, kind):
    path = fuzz_dir / SEEDS[kind][0]
    path.write_bytes(seed(kind))
    decoded = PillowImageDecoder(max_pixels=MAX_PIXELS).decode(path)
    assert {decoded.width, decoded.height} == {48, 32}


@pytest.mark.parametrize("kind", SEEDS)
@fuzz_settings
@given(data=st.data())
def test_a_mutated_file_decodes_to_valid_pixels_or_is_rejected(fuzz_dir, kind, data):
    """Any mutation of a real file decodes to finite HxWx3 floats in [0, 1] or raises ImageRejected."""
    assert_decodes_cleanly_or_is_rejected(fuzz_dir / SEEDS[kind][0], data.draw(mutants(kind)))


MAGIC = {
    "noise.png": PNG_SIGNATURE,
    "noise.jpg": b"\xff\xd8\xff\xe0",
    "noise-le.tif": b"II*\x00",
    "noise-be.tif": b"MM\x00*",
    "noise.webp": b"RIFF\x00\x10\x00\x00WEBPVP8 ",
}


@pytest.mark.parametrize("name", MAGIC)
@fuzz_settings
@given(noise=st.binary(max_size=2048))
@example(noise=b"")
def test_random_bytes_behind_a_valid_magic_number_are_rejected(fuzz_dir, name, noise):
    """Noise that only starts like an image is rejected cleanly (or, by luck, decodes to valid pixels)."""
    assert_decodes_cleanly_or_is_rejected(fuzz_dir / name, MAGIC[name] + noise)


@fuzz_settings
@given(
    header=st.tuples(
        st.integers(0, 2**32 - 1) | st.integers(1, 64),
        st.integers(0, 2**32 - 1) | st.integers(1, 64),
        st.sampled_from([1, 2, 4, 8, 16]) | st.integers(0, 255),
        st.sampled_from([0, 2, 3, 4, 6]) | st.integers(0, 255),
        st.integers(0, 1) | st.integers(0, 255),  # compression, filter and interlace: only 0 is valid...
        st.integers(0, 1) | st.integers(0, 255),
        st.integers(0, 1) | st.integers(0, 255),  # ...except Adam7 interlace (1)
    ),
    body=st.binary(max_size=4096),
    palette=st.none() | st.binary(max_size=800),
)
def test_a_png_with_any_valid_checksummed_header_is_decoded_or_rejected(fuzz_dir, header, body, palette):
    """Every IHDR a PNG can state, over any compressed data, decodes cleanly or is rejected."""
    png = PNG_SIGNATURE + png_chunk(b"IHDR", struct.pack(">IIBBBBB", *header))
    if palette is not None:
        png += png_chunk(b"PLTE", palette)
    png += png_chunk(b"IDAT", zlib.compress(body)) + png_chunk(b"IEND", b"")
    assert_decodes_cleanly_or_is_rejected(fuzz_dir / "header.png", png)


@pytest.mark.parametrize(
    "kind", ["png-rgb8", "png-rgb16", "jpeg", "tiff-pillow8", "tiff-rgb16", "webp-lossy", "webp-lossless-rgba"]
)
def test_a_decompression_bomb_header_is_refused_by_the_pixel_limit(fuzz_dir, kind):
    path = fuzz_dir / SEEDS[kind][0]
    path.write_bytes(with_dimensions(seed(kind), 100_000, 100_000))
    with pytest.raises(ImageRejected, match=r"megapixels, over the 1 megapixel limit"):
        with bounded(HANG_SECONDS, HEADROOM):
            PillowImageDecoder(max_pixels=MAX_PIXELS).decode(path)


# --- regressions found by the fuzzer, and the harness itself ----------------------------------


def test_a_4_gb_chunk_length_in_a_small_png_does_not_ask_for_4_gb(fuzz_dir):
    """Pillow read() the declared IDAT length in one call, which allocated it before reading."""
    png = bytearray(seed("png-rgb8"))
    idat = next(start for start, _ in chunk_spans(bytes(png)) if png[start + 4 : start + 8] == b"IDAT")
    png[idat : idat + 4] = struct.pack(">I", 0xFFFFFFF0)
    assert_decodes_cleanly_or_is_rejected(fuzz_dir / "long.png", bytes(png))


@pytest.mark.parametrize("kind", ["png-rgb8", "jpeg", "tiff-pillow8", "webp-lossy"])
def test_a_file_with_a_damaged_header_is_called_damaged_not_unknown(fuzz_dir, kind):
    data = bytearray(seed(kind))
    data[12:40] = bytes(28)  # past the magic number, into the first header
    path = fuzz_dir / SEEDS[kind][0]
    path.write_bytes(data)
    with pytest.raises(ImageRejected, match=rf"^{path.name} is (a )?damaged"):
        PillowImageDecoder().decode(path)


@pytest.mark.parametrize("kind", ["png-exif-rotated", "png-rgb16-exif-rotated", "webp-exif-rotated"])
def test_a_damaged_exif_block_is_ignored_as_in_a_jpeg(fuzz_dir, kind):
    """Pillow raised SyntaxError reading it in a PNG or WebP (its JPEG reader already ignores it)."""
    data = seed(kind)
    tiff_header = data.index(b"MM\x00*")
    data = data[:tiff_header] + b"garbage!" + data[tiff_header + 8 :]
    if data.startswith(PNG_SIGNATURE):
        data = with_png_crcs_fixed(data)
    path = fuzz_dir / SEEDS[kind][0]
    path.write_bytes(data)
    decoded = PillowImageDecoder().decode(path)
    assert (decoded.width, decoded.height) == (48, 32)  # as stored, not turned


def test_a_jpeg_with_a_second_picture_is_reported_as_a_jpeg(fuzz_dir):
    """Pillow calls it MPO, a name the rest of Rilievo (file suffixes, the API) does not know."""
    path = fuzz_dir / "phone.jpg"
    path.write_bytes(seed("jpeg-mpo"))
    assert PillowImageDecoder().decode(path).format == "JPEG"


def test_running_out_of_memory_is_not_reported_as_a_damaged_file(fuzz_dir, monkeypatch):
    path = fuzz_dir / "photo.png"
    path.write_bytes(seed("png-rgb8"))

    def out_of_memory(self):
        raise MemoryError

    monkeypatch.setattr(ImageFile.ImageFile, "load", out_of_memory)
    with pytest.raises(MemoryError):
        PillowImageDecoder().decode(path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the guards use Linux rlimits and SIGALRM")
def test_the_guards_stop_a_hang_and_a_huge_allocation():
    with pytest.raises(DecodeHung):
        with bounded(1, HEADROOM):
            while True:
                pass
    with pytest.raises(MemoryError):
        with bounded(HANG_SECONDS, HEADROOM):
            np.ones(2 * HEADROOM, np.uint8)
    np.ones(2 * HEADROOM // 8, np.uint8)  # the limit is lifted again afterwards
