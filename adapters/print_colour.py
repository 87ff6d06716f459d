"""sRGB -> CMYK through a print profile, ink limits, ΔE2000 and the soft proof, on libvips (LittleCMS).

Every transform is a libvips operation, so the same code converts a print-size file as it streams
(print_files.py) and a small array (the proof, the tests). Pillow only reads profiles' names.
"""

from __future__ import annotations

import functools
import io
import struct
from pathlib import Path

import attrs
import numpy as np
import pyvips
from PIL import ImageCms

from rilievo.domain.errors import InvalidParameter, RilievoError

DEFAULT_CMYK_PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")
DEFAULT_CMYK_PACKAGE = "libgs-common"
INTENTS = {"perceptual": "perceptual", "relative": "relative"}
# ΔE2000 above which the soft proof marks a pixel out of gamut. In-gamut colours come back from the
# 8-bit round trip within about 1; 3 is clearly visible side by side, so smaller shifts are not flagged.
GAMUT_DELTA_E = 3.0
GAMUT_COLOUR = (1.0, 0.0, 1.0)  # magenta: rare in photos and never produced by the round trip
GAMUT_OPACITY = 0.7
HATCH_PERIOD = 8  # px at preview size: diagonal stripes leave half the area showing the proof itself
WHITE16 = 65535


class CmykProfileMissing(RilievoError):
    """No CMYK profile was given and the system's default one is not installed."""


def default_cmyk_profile() -> Path:
    if not DEFAULT_CMYK_PROFILE.is_file():
        raise CmykProfileMissing(
            f"no CMYK profile was given and the default {DEFAULT_CMYK_PROFILE} is missing: install the "
            f"Debian package {DEFAULT_CMYK_PACKAGE} (apt-get install {DEFAULT_CMYK_PACKAGE}) or give your "
            "print shop's ICC profile"
        )
    return DEFAULT_CMYK_PROFILE


def profile_description(profile: Path | bytes) -> str:
    """The profile's own name (its 'desc' tag), e.g. 'Artifex CMYK SWOP Profile', for the manifest."""
    return ImageCms.getProfileDescription(_load_profile(profile)).strip()


@functools.cache
def srgb_profile_bytes() -> bytes:
    """LittleCMS's built-in sRGB, with a fixed creation date so the same pixels make the same file."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[24:36] = struct.pack(">6H", 2024, 1, 1, 0, 0, 0)  # dateTimeNumber; the profile ID is unset
    return bytes(profile)


def _load_profile(profile: Path | bytes) -> ImageCms.ImageCmsProfile:
    try:
        source = io.BytesIO(profile) if isinstance(profile, bytes) else str(profile)
        return ImageCms.ImageCmsProfile(source)
    except (OSError, ImageCms.PyCMSError) as e:
        name = "the given profile" if isinstance(profile, bytes) else Path(profile).name
        raise InvalidParameter(f"{name} is not an ICC profile Rilievo can read ({e})") from e


# ---- arrays <-> libvips ----------------------------------------------------------------------------


def rgb16(pixels: np.ndarray) -> pyvips.Image:
    """RGB(A) floats in [0, 1] -> a 16-bit libvips image, as the print files store them."""
    values = np.rint(np.clip(pixels, 0.0, 1.0) * WHITE16).astype(np.uint16)
    height, width, bands = values.shape
    image = pyvips.Image.new_from_memory(values.tobytes(), width, height, bands, "ushort")
    return image.copy(interpretation="rgb16")


def to_floats(image: pyvips.Image) -> np.ndarray:
    """An 8- or 16-bit libvips image -> HxWxC float32 in [0, 1]."""
    top = WHITE16 if image.format == "ushort" else 255
    dtype = np.uint16 if image.format == "ushort" else np.uint8
    values = np.ndarray((image.height, image.width, image.bands), dtype, image.write_to_memory())
    return values.astype(np.float32) / top


def to_uint8(image: pyvips.Image) -> np.ndarray:
    return np.ndarray((image.height, image.width, image.bands), np.uint8, image.write_to_memory()).copy()


def over_white(image: pyvips.Image) -> pyvips.Image:
    """RGB(A) -> RGB: a print shows the paper where the image is transparent."""
    if image.bands == 4:
        white = WHITE16 if image.format == "ushort" else 255
        return image.flatten(background=[white] * 3, max_alpha=white).cast(image.format)
    return image


class CmykConversion:
    """One print profile, intent and ink limit, applied by libvips' LittleCMS transforms."""

    def __init__(self, profile_path: Path, *, intent: str = "perceptual", ink_limit: float | None = None):
        if intent not in INTENTS:
            raise InvalidParameter(f"rendering intent must be one of {', '.join(INTENTS)}, not {intent!r}")
        if ink_limit is not None and not 100 <= ink_limit <= 400:
            raise InvalidParameter(f"ink limit must be between 100 and 400 percent, not {ink_limit!r}")
        self.profile_path = Path(profile_path)
        try:
            self.profile_bytes = self.profile_path.read_bytes()
        except OSError as e:
            raise InvalidParameter(f"cannot read the CMYK profile {self.profile_path} ({e.strerror})") from e
        cmyk = _load_profile(self.profile_bytes)
        if cmyk.profile.xcolor_space.strip() != "CMYK":
            raise InvalidParameter(
                f"{self.profile_path.name} describes {cmyk.profile.xcolor_space.strip()} colour, not CMYK"
            )
        self.description = ImageCms.getProfileDescription(cmyk).strip()
        self.intent = intent
        self.ink_limit = ink_limit

    @classmethod
    def from_profile(
        cls, profile_path: Path | None = None, *, intent: str = "perceptual", ink_limit: float | None = None
    ) -> CmykConversion:
        """The user's profile, else the system's default one (raises CmykProfileMissing)."""
        return cls(profile_path or default_cmyk_profile(), intent=intent, ink_limit=ink_limit)

    # -- libvips images (streamed) ---------------------------------------------------------------
    def cmyk_image(self, rgb: pyvips.Image, *, colorimetric: bool = False) -> pyvips.Image:
        """A 16-bit sRGB(A) image -> 8-bit CMYK (0 = no ink) with the profile attached, ink-limited;
        black-point compensation on. colorimetric=True uses the relative intent (the gamut check)."""
        cmyk = over_white(rgb).copy(interpretation="rgb16").icc_transform(
            str(self.profile_path), input_profile="srgb", embedded=False, depth=8,
            intent="relative" if colorimetric else self.intent, black_point_compensation=True,
        )
        return cmyk if self.ink_limit is None else limit_ink(cmyk, self.ink_limit)

    def rgb_image(self, cmyk: pyvips.Image) -> pyvips.Image:
        """8-bit CMYK -> 16-bit sRGB as the print will look (relative colorimetric, paper white white)."""
        return cmyk.copy(interpretation="cmyk").icc_transform(
            "srgb", input_profile=str(self.profile_path), embedded=False, depth=16,
            intent="relative", black_point_compensation=True,
        )

    # -- arrays (small images) -------------------------------------------------------------------
    def to_cmyk(self, rgb: np.ndarray) -> np.ndarray:
        """HxWx3 or HxWx4 floats in [0,1] -> HxWx4 uint8 CMYK, as the CMYK TIFF stores it."""
        return to_uint8(self.cmyk_image(rgb16(rgb)))

    def to_rgb(self, cmyk: np.ndarray) -> np.ndarray:
        """HxWx4 uint8 CMYK -> HxWx3 float32 sRGB, as the print will look."""
        height, width = cmyk.shape[:2]
        image = pyvips.Image.new_from_memory(np.ascontiguousarray(cmyk, np.uint8).tobytes(), width, height, 4, "uchar")
        return to_floats(self.rgb_image(image))

    def round_trip(self, rgb: np.ndarray, *, colorimetric: bool = False) -> np.ndarray:
        """sRGB -> CMYK -> sRGB floats; colorimetric=True measures the gamut rather than the print."""
        return to_floats(self.rgb_image(self.cmyk_image(rgb16(rgb), colorimetric=colorimetric)))


def limit_ink(cmyk: pyvips.Image, percent: float) -> pyvips.Image:
    """Scales C, M and Y down where C+M+Y+K exceeds `percent`, keeping K (only K above the limit is
    cut). Rounding down keeps each pixel at or under the limit."""
    limit = percent / 100 * 255
    values = cmyk.cast("float")
    colour, black = values[0] + values[1] + values[2], values[3]
    over = (colour + black) > limit
    capped = black.minpair(float(np.floor(limit)))  # libvips: a constant as the other image
    room = (limit - capped).maxpair(0.0)
    scale = over.ifthenelse((room / colour.maxpair(1.0)).minpair(1.0), 1.0)
    inks = (values.extract_band(0, n=3) * scale).floor().bandjoin(over.ifthenelse(capped, black))
    return inks.cast("uchar").copy(interpretation="cmyk")


# ---- colour difference ----------------------------------------------------------------------------


def delta_e2000(rgb1: np.ndarray, rgb2: np.ndarray) -> np.ndarray:
    """CIEDE2000 between two ...x3 arrays of sRGB floats in [0, 1] (libvips' dE00, D65)."""
    first, second = (_lab(np.asarray(rgb, np.float32)) for rgb in (rgb1, rgb2))
    shape = np.shape(rgb1)[:-1]
    delta = first.dE00(second)
    return np.ndarray((delta.height, delta.width), np.float32, delta.write_to_memory()).reshape(shape).astype(np.float64)


def _lab(rgb: np.ndarray) -> pyvips.Image:
    flat = np.ascontiguousarray(np.clip(rgb, 0.0, 1.0).reshape(1, -1, 3) * 255, np.float32)
    image = pyvips.Image.new_from_memory(flat.tobytes(), flat.shape[1], 1, 3, "float")
    return image.copy(interpretation="srgb").colourspace("lab")


# ---- soft proof ------------------------------------------------------------------------------------


@attrs.frozen
class ProofSummary:
    profile: str
    intent: str
    ink_limit: float | None
    gamut_delta_e: float
    out_of_gamut_fraction: float
    mean_delta_e: float
    p95_delta_e: float


def soft_proof(
    rgb: pyvips.Image, conversion: CmykConversion, *, threshold: float = GAMUT_DELTA_E
) -> tuple[np.ndarray, np.ndarray, ProofSummary]:
    """(how the print will look with out-of-gamut areas hatched, the out-of-gamut mask, a summary), for
    a preview-size 16-bit RGB(A) image."""
    rgb = over_white(rgb)
    proof = to_floats(conversion.rgb_image(conversion.cmyk_image(rgb)))
    gamut = conversion.rgb_image(conversion.cmyk_image(rgb, colorimetric=True))
    lab = [image.copy(interpretation="rgb16").colourspace("lab") for image in (rgb, gamut)]
    delta_image = lab[0].dE00(lab[1])
    delta = np.ndarray((delta_image.height, delta_image.width), np.float32, delta_image.write_to_memory())
    mask = delta > threshold
    rows, columns = np.indices(mask.shape)
    hatch = mask & (((rows + columns) // (HATCH_PERIOD // 2)) % 2 == 0)
    marked = proof.copy()
    marked[hatch] = (1 - GAMUT_OPACITY) * proof[hatch] + GAMUT_OPACITY * np.array(GAMUT_COLOUR, np.float32)
    summary = ProofSummary(
        profile=conversion.description,
        intent=conversion.intent,
        ink_limit=conversion.ink_limit,
        gamut_delta_e=threshold,
        out_of_gamut_fraction=float(mask.mean()),
        mean_delta_e=float(delta.mean()),
        p95_delta_e=float(np.percentile(delta, 95)),
    )
    return marked, mask, summary
