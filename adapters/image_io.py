"""Reading photos into sRGB float arrays, and writing PNG/JSON files atomically."""

import contextlib
import io
import json
import logging
import os
import secrets
import struct
from collections.abc import Iterator
from pathlib import Path

import attrs
import cv2
import numpy as np
import scipy.ndimage
import tifffile
from PIL import ExifTags, Image, ImageCms, ImageOps

from rilievo.domain.errors import ImageRejected
from rilievo.domain.images import REC709_LUMA, DecodedImage, size_problem

ACCEPTED_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP")
_ACCEPTED = "accepted: JPEG, PNG, TIFF, WebP"
# Pillow names a JPEG that carries extra pictures (a phone's depth or gain map) MPO; it is still a
# JPEG file, and its first picture is the one read.
_FORMAT_NAMES = {"MPO": "JPEG"}

# What Pillow's readers raise on damaged data, beyond the UnidentifiedImageError of Image.open:
# OSError from the C decoders (and "image file is truncated"), EOFError for data that ends early,
# SyntaxError and ValueError from the plugins' header and chunk parsers, struct.error from fields
# cut short. Anything else is a bug to hear about, not a damaged file; MemoryError in particular.
# tests/contract/test_ingest_fuzz.py is what keeps this list honest.
# TypeError: Pillow on a damaged TIFF tag (an IFDRational where an int belongs)
_DECODER_ERRORS = (OSError, EOFError, SyntaxError, ValueError, TypeError, struct.error)

# Modes read as they are; _CONVERTED_MODES are first converted to one of these.
_PLAIN_MODES = {"L", "LA", "RGB", "RGBA", "CMYK", "I", "I;16", "I;16B", "I;16L", "I;16N"}
_CONVERTED_MODES = {"1": "L", "La": "LA", "RGBX": "RGB", "RGBa": "RGBA", "PA": "RGBA"}
_SIXTEEN_BIT_GRAY = {"I;16", "I;16B", "I;16L", "I;16N"}

# Our own max_pixels check, made on the header before any pixel is decoded, replaces Pillow's
# global limit (which would otherwise cap RILIEVO_MAX_PIXELS at twice its default).
Image.MAX_IMAGE_PIXELS = None

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

_ORIENTATIONS = {  # EXIF orientation -> how to turn the stored rows/columns upright
    1: lambda a: a,
    2: np.fliplr,
    3: lambda a: np.rot90(a, 2),
    4: np.flipud,
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}


class PillowImageDecoder:
    def __init__(self, max_pixels: int = 150_000_000):
        self.max_pixels = max_pixels

    def decode(self, path: Path) -> DecodedImage:
        read = self._read(Path(path), colour_managed=True)
        had_alpha = read.values.shape[2] in (2, 4)
        pixels = _flatten_to_rgb(read.values)
        height, width = pixels.shape[:2]
        return DecodedImage(
            pixels=pixels,
            bit_depth=read.bits,
            format=read.format,
            width=width,
            height=height,
            had_alpha=had_alpha,
            converted_from=read.converted_from,
        )

    def decode_values(self, path: Path) -> np.ndarray:
        """HxW float32 in [0,1]: the stored values (luminance if colour), upright, at full precision.

        For data stored as an image, such as a depth map: no colour management, alpha ignored.
        """
        return self.decode_data(path)[0]

    def decode_data(self, path: Path) -> tuple[np.ndarray, int]:
        """decode_values, and how many values were unknown: a floating-point image's NaN and inf, which
        take the value of the nearest known one. Floating-point data is stretched to [0,1] from its own
        range when it lies outside it (depth in metres, say)."""
        read = self._read(Path(path), colour_managed=False)
        values = read.values
        if values.shape[2] in (2, 4):
            values = values[..., :-1]
        if values.shape[2] == 1:
            return np.ascontiguousarray(values[..., 0]), read.unknown
        return np.clip(values @ REC709_LUMA, 0.0, 1.0), read.unknown

    def _read(self, path: Path, colour_managed: bool) -> "_Read":
        with _open_bounded(path) as file, self._open(file, path.name) as img:
            image_format = _FORMAT_NAMES.get(img.format, img.format)
            if img.mode == "F":
                values, unknown = _float_values(_upright(img), path.name)
                return _Read(values[..., None], 16, None, image_format, unknown)
            profile, profile_name = _foreign_profile(img, path.name) if colour_managed else (None, None)
            if profile is None and _pillow_reduced_to_8_bits(img, path):
                values, bits = _read_16_bit_colour(img, path)
            else:
                values, bits = _pillow_values(_upright(img), profile, path.name)
            if colour_managed and profile is None and (png_colour := _png_colour_space(img)) is not None:
                gamma, chromaticity, profile_name = png_colour
                values = _png_to_srgb(values, gamma, chromaticity)
            return _Read(values, bits, profile_name, image_format, 0)

    def _open(self, file: "_BoundedReader", name: str) -> Image.Image:
        """Opens and fully decodes the file with Pillow, refusing anything it should not accept."""
        try:
            img = Image.open(file, formats=ACCEPTED_FORMATS)
        except Image.UnidentifiedImageError as e:
            claimed = _claimed_format(file)
            if claimed == "TIFF" and (unsupported := _unsupported_tiff(file)) is not None:
                raise ImageRejected(f"{name} {unsupported}") from e
            if claimed is not None:
                raise ImageRejected(f"{name} is a damaged {claimed} file (its header cannot be read)") from e
            raise ImageRejected(f"{name} is not an image Rilievo can read ({_ACCEPTED})") from e
        except _DECODER_ERRORS as e:
            raise ImageRejected(f"{name} is damaged and cannot be decoded ({_reason(e)})") from e
        try:
            self._check_pixel_count(img, name)
            _load_fully(img, name)
        except BaseException:
            img.close()
            raise
        return img

    def _check_pixel_count(self, img: Image.Image, name: str) -> None:
        width, height = img.size
        if problem := size_problem(width, height):
            raise ImageRejected(f"{name} is {problem}")
        if width * height > self.max_pixels:
            raise ImageRejected(
                f"{name} is {width}x{height} = {width * height / 1e6:.1f} megapixels, over the "
                f"{self.max_pixels / 1e6:g} megapixel limit (set RILIEVO_MAX_PIXELS to raise it)"
            )


@attrs.frozen(eq=False)
class _Read:
    values: np.ndarray  # upright HxWxC float32: C is 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)
    bits: int
    converted_from: str | None
    format: str
    unknown: int  # values of a floating-point image that were NaN or inf, now filled


class _BoundedReader(io.BufferedReader):
    """A file whose read(n) never asks for more memory than the file has bytes left.

    Pillow passes lengths declared inside the file (a PNG chunk's, say) straight to read(), and a plain
    file allocates the n bytes asked for before reading: a 4 GB length in a 1 kB file asked for 4 GB.
    """

    def __init__(self, raw: io.RawIOBase, size: int):
        super().__init__(raw)
        self._size = size

    def read(self, n: int | None = -1) -> bytes:
        if n is not None and n > 0:
            n = min(n, max(self._size - self.tell(), 0))
        return super().read(n)


@contextlib.contextmanager
def _open_bounded(path: Path) -> Iterator[_BoundedReader]:
    try:
        size = path.stat().st_size
        raw = path.open("rb", buffering=0)
    except OSError as e:
        raise ImageRejected(f"{path.name} cannot be read ({e.strerror})") from e
    with _BoundedReader(raw, size) as file:
        if size == 0:
            raise ImageRejected(f"{path.name} is empty (0 bytes)")
        yield file


_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"II+\x00": "TIFF",  # BigTIFF
    b"MM\x00+": "TIFF",
}


def _claimed_format(file: _BoundedReader) -> str | None:
    """The accepted format the file's first bytes announce, if any."""
    file.seek(0)
    head = file.read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return next((kind for magic, kind in _SIGNATURES.items() if head.startswith(magic)), None)


def _load_fully(img: Image.Image, name: str) -> None:
    try:
        img.load()
    except _DECODER_ERRORS as e:
        if isinstance(e, EOFError) or "truncated" in str(e):
            raise ImageRejected(f"{name} is truncated (the file ends before the image data does)") from e
        raise ImageRejected(f"{name} is damaged and cannot be decoded ({_reason(e)})") from e


def _reason(e: BaseException) -> str:
    """The library's own words for what went wrong, on one short line."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 120 else text[:119] + "…"


def _foreign_profile(img: Image.Image, name: str) -> tuple[ImageCms.ImageCmsProfile | None, str | None]:
    """The embedded ICC profile and its name, or (None, None) if there is none or it is sRGB."""
    data = img.info.get("icc_profile")
    if not data:
        return None, None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(data))
        description = ImageCms.getProfileDescription(profile).strip()
    except (ImageCms.PyCMSError, OSError) as e:
        raise ImageRejected(f"{name} has a damaged colour profile ({_reason(e)})") from e
    if "srgb" in description.lower():
        return None, None
    return profile, description


def _pillow_reduced_to_8_bits(img: Image.Image, path: Path) -> bool:
    """Pillow reads 16-bit colour (and gray+alpha) PNG and TIFF as 8-bit RGB(A)."""
    if img.mode not in ("RGB", "RGBA"):
        return False
    if img.format == "PNG":
        with path.open("rb") as f:
            return f.read(25)[24] == 16  # IHDR bit depth
    if img.format == "TIFF":
        return 16 in img.tag_v2.get(258, ())  # BitsPerSample
    return False


def _read_16_bit_colour(img: Image.Image, path: Path) -> tuple[np.ndarray, int]:
    """Re-reads a file Pillow has already validated with OpenCV, which keeps 16 bits."""
    values = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if values is None or values.dtype != np.uint16 or values.ndim != 3:
        raise ImageRejected(f"{path.name} is damaged and cannot be decoded (16-bit colour data)")
    # OpenCV's TIFF reader applies the Orientation tag itself; its PNG reader ignores eXIf.
    orientation = _exif_orientation(img) if img.format == "PNG" else 1
    values = _ORIENTATIONS[orientation](_swap_red_blue(values))
    return np.ascontiguousarray(values, dtype=np.float32) / 65535, 16


def _upright(img: Image.Image) -> Image.Image:
    return ImageOps.exif_transpose(img) if _exif_orientation(img) != 1 else img


def _exif_orientation(img: Image.Image) -> int:
    """1 (as stored) when there is no valid orientation, or no readable EXIF block.

    A damaged EXIF block is ignored, as Pillow's own JPEG reader and web browsers ignore it: the
    pixels are fine. These are the errors that reader expects from getexif().
    """
    try:
        orientation = img.getexif().get(ExifTags.Base.Orientation, 1)
    except (SyntaxError, struct.error):
        return 1
    return orientation if orientation in _ORIENTATIONS else 1


def _unsupported_tiff(file: "_BoundedReader") -> str | None:
    """Why Pillow cannot open a TIFF whose header is sound but holds floating-point samples it does not
    read (colour, or 16- and 64-bit gray), as the end of a sentence; None for anything else."""
    try:
        file.seek(0)
        with _quiet(tifffile.logger()), tifffile.TiffFile(file) as tiff:
            page = tiff.pages.first
            samples, bits, sample_format = page.samplesperpixel, page.bitspersample, page.sampleformat
    except Exception:  # tifffile raises many kinds on damaged headers; Pillow's answer then stands
        return None
    if sample_format != tifffile.SAMPLEFORMAT.IEEEFP or bits not in (16, 24, 32, 64):
        return None
    if samples > 1:
        return (f"holds {bits}-bit floating-point colour (high dynamic range or linear light), which Rilievo "
                "cannot print faithfully: export it as an 8- or 16-bit TIFF or PNG")
    return (f"holds {bits}-bit floating-point values; Rilievo reads 32-bit floating-point gray (a depth map, "
            "say): save it as that, or as 16-bit gray")


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """tifffile logs what it finds wrong in a damaged header; the refusal already says it, in one line."""
    disabled, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = disabled


def _float_values(img: Image.Image, name: str) -> tuple[np.ndarray, int]:
    """A floating-point gray image (a depth map, say) in [0,1], and how many of its values were unknown
    (NaN, inf): those take the value of the nearest known pixel. Values outside [0,1] (metres, say)
    are stretched to it from their own range."""
    values = np.asarray(img, dtype=np.float64)
    known = np.isfinite(values)
    unknown = int(values.size - np.count_nonzero(known))
    if unknown == values.size:
        raise ImageRejected(f"{name} holds no known value: every pixel is NaN or infinite")
    if unknown:
        nearest = scipy.ndimage.distance_transform_edt(~known, return_distances=False, return_indices=True)
        values = values[tuple(nearest)]
    low, high = float(values.min()), float(values.max())
    if low < 0.0 or high > 1.0:
        values = (values - low) / (high - low) if high > low else np.zeros_like(values)
    return values.astype(np.float32), unknown


# PNG colour chunks (gAMA, cHRM), read as browsers read them when there is no iCCP or sRGB chunk.
_SRGB_GAMMA = 1 / 2.2  # gAMA 45455 without cHRM: what browsers show as sRGB
_SRGB_CHROMATICITY = (0.3127, 0.329, 0.64, 0.33, 0.3, 0.6, 0.15, 0.06)  # white, red, green, blue (x, y)
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def _png_colour_space(img: Image.Image) -> tuple[float, tuple[float, ...] | None, str] | None:
    """(gamma, chromaticity or None, a name for the record) of a PNG whose gAMA/cHRM chunks say it is
    not sRGB; None for sRGB, an iCCP or sRGB chunk (which take precedence), or no such chunk."""
    info = img.info
    gamma = info.get("gamma")
    if img.format != "PNG" or "icc_profile" in info or "srgb" in info or not gamma or gamma <= 0:
        return None
    chromaticity = info.get("chromaticity") if img.mode in ("RGB", "RGBA", "P", "PA") else None
    if chromaticity is not None and np.allclose(chromaticity, _SRGB_CHROMATICITY, atol=0.005):
        chromaticity = None
    if chromaticity is None and abs(gamma - _SRGB_GAMMA) < 0.005:
        return None
    return gamma, chromaticity, f"PNG gAMA {gamma:.5g}" + (" and cHRM" if chromaticity is not None else "")


def _png_to_srgb(values: np.ndarray, gamma: float, chromaticity: tuple[float, ...] | None) -> np.ndarray:
    """Samples encoded as light ** gamma (in the cHRM primaries if given; sRGB's if not) -> sRGB."""
    colours = 3 if values.shape[2] >= 3 else 1
    light = np.power(values[..., :colours], np.float32(1.0 / gamma), dtype=np.float32)
    if chromaticity is not None:
        to_srgb = np.linalg.solve(_rgb_to_xyz(_SRGB_CHROMATICITY), _adaptation(chromaticity) @ _rgb_to_xyz(chromaticity))
        light = np.clip(light @ to_srgb.T.astype(np.float32), 0.0, 1.0)
    encoded = np.where(light <= 0.0031308, 12.92 * light, 1.055 * np.power(light, 1 / 2.4, dtype=np.float32) - 0.055)
    out = values.copy()
    out[..., :colours] = np.clip(encoded, 0.0, 1.0)
    return out


def _xyz(x: float, y: float) -> np.ndarray:
    return np.array([x / y, 1.0, (1.0 - x - y) / y])


def _rgb_to_xyz(chromaticity: tuple[float, ...]) -> np.ndarray:
    white = _xyz(*chromaticity[:2])
    primaries = np.column_stack([_xyz(*chromaticity[i : i + 2]) for i in (2, 4, 6)])
    return primaries * np.linalg.solve(primaries, white)


def _adaptation(chromaticity: tuple[float, ...]) -> np.ndarray:
    """Bradford adaptation from the file's white point to sRGB's D65."""
    source, target = (_BRADFORD @ _xyz(*c[:2]) for c in (chromaticity, _SRGB_CHROMATICITY))
    return np.linalg.solve(_BRADFORD, np.diag(target / source) @ _BRADFORD)


def _pillow_values(
    img: Image.Image, profile: ImageCms.ImageCmsProfile | None, name: str
) -> tuple[np.ndarray, int]:
    img = _plain_mode(img, name)
    if profile is not None:
        img = _to_srgb(img, profile, name)
    elif img.mode == "CMYK":
        img = img.convert("RGB")
    values = np.asarray(img)
    if values.dtype == np.uint8:
        bits, scale = 8, 255
    else:  # I;16 modes, or I (32-bit) holding 16-bit values
        bits, scale = 16, 65535
        values = np.clip(values, 0, 65535)
    values = np.multiply(values, np.float32(1 / scale), dtype=np.float32)  # one float copy, not two
    return values.reshape(img.height, img.width, -1), bits


def _plain_mode(img: Image.Image, name: str) -> Image.Image:
    if img.mode in ("P", "L", "RGB") and img.has_transparency_data:
        return img.convert("RGBA")
    if img.mode == "P":
        return img.convert("RGB")
    if img.mode in _CONVERTED_MODES:
        return img.convert(_CONVERTED_MODES[img.mode])
    if img.mode not in _PLAIN_MODES:
        raise ImageRejected(
            f"{name} stores its pixels as {img.mode}, which Rilievo cannot read (save it as RGB)"
        )
    return img


def _to_srgb(img: Image.Image, profile: ImageCms.ImageCmsProfile, name: str) -> Image.Image:
    """Converts to 8-bit sRGB with a perceptual intent; 16-bit gray loses its extra precision here."""
    alpha = img.getchannel("A") if img.mode in ("LA", "RGBA") else None
    if img.mode in _SIXTEEN_BIT_GRAY or img.mode == "I":
        img = Image.fromarray(np.rint(np.clip(np.asarray(img), 0, 65535) / 257).astype(np.uint8), "L")
    elif alpha is not None:
        img = img.convert(img.mode[:-1])
    try:
        img = ImageCms.profileToProfile(
            img, profile, _SRGB, renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB"
        )
    except ImageCms.PyCMSError as e:
        raise ImageRejected(f"{name} has a colour profile that does not fit its pixels ({_reason(e)})") from e
    if alpha is not None:
        img.putalpha(alpha)
    return img


def _flatten_to_rgb(values: np.ndarray) -> np.ndarray:
    if values.shape[2] in (2, 4):
        # The result is a print: transparent parts show the paper, so composite over white.
        alpha = values[..., -1:]
        values = values[..., :-1] * alpha + (1.0 - alpha)
    if values.shape[2] == 1:
        values = np.repeat(values, 3, axis=2)
    return np.ascontiguousarray(values, dtype=np.float32)


def _swap_red_blue(values: np.ndarray) -> np.ndarray:
    """RGB(A) <-> OpenCV's BGR(A)."""
    return values[..., [2, 1, 0, 3][: values.shape[2]]]


def write_png(path: Path, pixels: np.ndarray, bits: int) -> None:
    """Writes HxW gray, HxWx3 RGB or HxWx4 RGBA floats in [0,1] as an 8- or 16-bit PNG."""
    if bits not in (8, 16):
        raise ValueError(f"PNG bit depth must be 8 or 16, not {bits}")
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] in (3, 4))):
        raise ValueError(f"cannot write pixels of shape {pixels.shape} as PNG")
    dtype = np.uint8 if bits == 8 else np.uint16
    values = np.rint(np.clip(pixels, 0.0, 1.0) * np.iinfo(dtype).max).astype(dtype)
    if values.ndim == 3:
        values = _swap_red_blue(values)
    ok, encoded = cv2.imencode(".png", values)
    if not ok:
        raise ValueError(f"OpenCV could not encode {Path(path).name} as PNG")
    write_bytes_atomic(path, encoded.tobytes())


def read_png(path: Path) -> np.ndarray:
    """Reads a PNG as written by write_png: HxW, HxWx3 RGB or HxWx4 RGBA float32 in [0,1]."""
    path = Path(path)
    try:
        values = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as e:
        raise ImageRejected(f"{path.name} is not a PNG Rilievo can read") from e
    if values is None:
        raise ImageRejected(f"{path.name} is not a PNG Rilievo can read")
    scale = np.iinfo(values.dtype).max
    if values.ndim == 3:
        values = _swap_red_blue(values)
    return values.astype(np.float32) / scale


def write_json_atomic(path: Path, obj) -> None:
    write_bytes_atomic(path, (json.dumps(obj, indent=2) + "\n").encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Readers see either the old file or the complete new one, never a partial write."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{secrets.token_hex(6)}")
    try:
        with temporary.open("xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
