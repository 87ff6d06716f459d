"""sRGB -> CMYK through a print profile (LittleCMS via Pillow), ink limits, ΔE2000 and the soft proof."""

from __future__ import annotations

import functools
import io
import struct
from pathlib import Path

import attrs
import numpy as np
from PIL import Image, ImageCms

from rilievo.domain.errors import InvalidParameter, RilievoError

DEFAULT_CMYK_PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")
DEFAULT_CMYK_PACKAGE = "libgs-common"
INTENTS = {
    "perceptual": ImageCms.Intent.PERCEPTUAL,
    "relative": ImageCms.Intent.RELATIVE_COLORIMETRIC,
}
# ΔE2000 above which the soft proof marks a pixel out of gamut. In-gamut colours come back from the
# 8-bit round trip within about 1; 3 is clearly visible side by side, so smaller shifts are not flagged.
GAMUT_DELTA_E = 3.0
GAMUT_COLOUR = (1.0, 0.0, 1.0)  # magenta: rare in photos and never produced by the round trip
GAMUT_OPACITY = 0.7
HATCH_PERIOD = 8  # px at preview size: diagonal stripes leave half the area showing the proof itself


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


def to_bytes8(rgb: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(rgb, 0.0, 1.0) * 255).astype(np.uint8)


def over_white(pixels: np.ndarray) -> np.ndarray:
    """RGB(A) floats -> RGB: a print shows the paper where the image is transparent."""
    if pixels.shape[2] == 4:
        alpha = pixels[..., 3:]
        return pixels[..., :3] * alpha + (1.0 - alpha)
    return pixels


class CmykConversion:
    """One print profile, intent and ink limit; the transforms are built once and reused strip by strip."""

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
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        # NOCACHE: LittleCMS's one-pixel cache is not thread-safe, and tiles convert on worker threads.
        bpc = ImageCms.Flags.BLACKPOINTCOMPENSATION | ImageCms.Flags.NOCACHE
        self._forward = ImageCms.buildTransform(srgb, cmyk, "RGB", "CMYK", INTENTS[intent], flags=bpc)
        # The gamut check goes colorimetric both ways: colours the press can print come back unchanged,
        # so whatever moves is what it cannot print (a perceptual intent shifts in-gamut colours too).
        self._check = ImageCms.buildTransform(srgb, cmyk, "RGB", "CMYK", INTENTS["relative"], flags=bpc)
        self._back = ImageCms.buildTransform(cmyk, srgb, "CMYK", "RGB", INTENTS["relative"], flags=bpc)

    @classmethod
    def from_profile(
        cls, profile_path: Path | None = None, *, intent: str = "perceptual", ink_limit: float | None = None
    ) -> CmykConversion:
        """The user's profile, else the system's default one (raises CmykProfileMissing)."""
        return cls(profile_path or default_cmyk_profile(), intent=intent, ink_limit=ink_limit)

    def to_cmyk(self, rgb: np.ndarray) -> np.ndarray:
        """HxWx3 or HxWx4 floats in [0,1] -> HxWx4 uint8 CMYK (0 = no ink), ink-limited."""
        return self._apply(self._forward, rgb)

    def to_rgb(self, cmyk: np.ndarray) -> np.ndarray:
        """HxWx4 uint8 CMYK -> HxWx3 float32 sRGB, as the print will look (paper white shown as white)."""
        height, width = cmyk.shape[:2]
        image = Image.frombuffer("CMYK", (width, height), np.ascontiguousarray(cmyk), "raw", "CMYK", 0, 1)
        rgb = np.asarray(ImageCms.applyTransform(image, self._back))
        return rgb.astype(np.float32) / 255

    def round_trip(self, rgb: np.ndarray, *, colorimetric: bool = False) -> np.ndarray:
        """sRGB -> CMYK -> sRGB floats; colorimetric=True measures the gamut rather than the print."""
        return self.to_rgb(self._apply(self._check if colorimetric else self._forward, rgb))

    def _apply(self, transform: ImageCms.ImageCmsTransform, pixels: np.ndarray) -> np.ndarray:
        values = to_bytes8(over_white(pixels))
        height, width = values.shape[:2]
        image = Image.frombuffer("RGB", (width, height), np.ascontiguousarray(values), "raw", "RGB", 0, 1)
        cmyk = np.array(ImageCms.applyTransform(image, transform))
        return cmyk if self.ink_limit is None else limit_ink(cmyk, self.ink_limit)


def limit_ink(cmyk: np.ndarray, percent: float) -> np.ndarray:
    """Scales C, M and Y down where C+M+Y+K exceeds `percent`, keeping K (only K above the limit is cut)."""
    limit = percent / 100 * 255
    values = cmyk.astype(np.float32)
    colour = values[..., :3].sum(axis=-1)
    over = colour + values[..., 3] > limit
    if not over.any():
        return cmyk
    black = np.minimum(values[..., 3], np.floor(limit))
    room = np.maximum(limit - black, 0.0)
    scale = np.where(over, np.minimum(room / np.maximum(colour, 1.0), 1.0), 1.0)
    out = cmyk.copy()
    # Rounding down keeps each pixel at or under the limit.
    out[..., :3] = np.floor(values[..., :3] * scale[..., None]).astype(np.uint8)
    out[..., 3] = np.where(over, black, values[..., 3]).astype(np.uint8)
    return out


def total_ink(cmyk: np.ndarray) -> np.ndarray:
    """Per pixel C+M+Y+K in percent."""
    return cmyk.astype(np.float32).sum(axis=-1) * (100 / 255)


# ---- colour difference ----------------------------------------------------------------------------

_SRGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]],
    dtype=np.float64,
)
_D65 = np.array([0.95047, 1.0, 1.08883])


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB floats in [0,1] -> CIE L*a*b* (D65), float64."""
    values = np.clip(np.asarray(rgb, dtype=np.float64), 0.0, 1.0)
    linear = np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _SRGB_TO_XYZ.T / _D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 (Sharma, Wu and Dalal 2005), element-wise over ...x3 Lab arrays."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=np.float64), -1, 0)
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    both = (c1p * c2p) != 0
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(both, dh, 0.0)
    d_big_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)
    l_bar = (L1 + L2) / 2
    cp_bar = (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_bar = np.where(np.abs(h1p - h2p) > 180, np.where(h_sum < 360, h_sum + 360, h_sum - 360), h_sum) / 2
    h_bar = np.where(both, h_bar, h_sum)
    t = (
        1
        - 0.17 * np.cos(np.radians(h_bar - 30))
        + 0.24 * np.cos(np.radians(2 * h_bar))
        + 0.32 * np.cos(np.radians(3 * h_bar + 6))
        - 0.20 * np.cos(np.radians(4 * h_bar - 63))
    )
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    rotation = np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2)))
    r_t = -2 * np.sqrt(cp_bar**7 / (cp_bar**7 + 25.0**7)) * np.sin(rotation)
    dl, dc, dhh = (L2 - L1) / s_l, (c2p - c1p) / s_c, d_big_h / s_h
    return np.sqrt(dl**2 + dc**2 + dhh**2 + r_t * dc * dhh)


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
    rgb: np.ndarray, conversion: CmykConversion, *, threshold: float = GAMUT_DELTA_E
) -> tuple[np.ndarray, np.ndarray, ProofSummary]:
    """(how the print will look with out-of-gamut areas hatched, the out-of-gamut mask, a summary).

    For preview-size images (the ΔE maths holds a few float64 planes of the whole image).
    """
    rgb = over_white(rgb)
    proof = conversion.round_trip(rgb)
    delta = delta_e2000(srgb_to_lab(rgb), srgb_to_lab(conversion.round_trip(rgb, colorimetric=True)))
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
