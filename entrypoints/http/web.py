"""The web form: pages rendered from Jinja templates; the page's JavaScript talks to the JSON API."""

from __future__ import annotations

from typing import Any, Mapping

from litestar import Router, get
from litestar.di import NamedDependency
from litestar.response import Template

from rilievo.adapters.image_io import ACCEPTED_FORMATS
from rilievo.application.presets import Presets
from rilievo.domain.outputs import STAGES
from rilievo.domain.params import RenderParams
from rilievo.domain.previews import LAYER_TINTS

from ..bootstrap import Installed
from ..engines import FALLBACK_ENGINES
from .options import FormOptions, form_options

# Sliders over a fractional range move in these steps; integer ranges move by 1.
FRACTION_STEP = 0.05
# Millimetre controls move in steps a printer or cutter can tell apart, not in fractions of the range.
STEPS = {"min_feature_mm": 0.1, "frame_depth_mm": 1}

MODE_NOTES = {
    "photo": "keeps the photo as it is",
    "painterly": "repaints it with brush strokes, keeping its composition and depth",
}

# Every stage a job may report, in the order the pipeline runs them; photo mode skips "paint".
PHOTO_STAGES = tuple(stage for stage in STAGES if stage != "paint")

MODE_LABELS = {"photo": "Photo", "painterly": "Painterly"}
PRINT_SIZE_LABELS = {"original": "Original size (the photo's pixels at the DPI)", "8x10": "8 × 10 in",
                     "11x14": "11 × 14 in", "16x20": "16 × 20 in", "18x24": "18 × 24 in", "24x36": "24 × 36 in"}
FORMAT_LABELS = {"png16": "16-bit PNG only", "tiff": "+ TIFF, 8-bit", "tiff16": "+ TIFF, 16-bit",
                 "cmyk-tiff": "+ CMYK TIFF"}
FIT_LABELS = {"crop": "Fill the print (crop, kept on the subject)", "pad": "Whole photo (white borders)"}
INTENT_LABELS = {"perceptual": "Perceptual", "relative": "Relative colorimetric + black point"}
FILE_EXTENSIONS = {
    "JPEG": (".jpg", ".jpeg"),
    "PNG": (".png",),
    "TIFF": (".tif", ".tiff"),
    "WEBP": (".webp",),
}


def label(value: object, labels: dict[str, str] | None = None) -> str:
    text = str(value)
    return (labels or {}).get(text) or text.replace("-", " ").replace("_", " ").capitalize()


def accept_attribute() -> str:
    """The file picker's filter: what the image decoder accepts, by MIME type and extension."""
    types = [f"image/{name.lower()}" for name in ACCEPTED_FORMATS]
    extensions = [
        ext for name in ACCEPTED_FORMATS for ext in FILE_EXTENSIONS.get(name, (f".{name.lower()}",))
    ]
    return ",".join(types + extensions)


def css_colour(rgb: tuple[float, float, float]) -> str:
    return "rgb({} {} {})".format(*(round(channel * 255) for channel in rgb))


def form_values(params: RenderParams, options: FormOptions) -> dict[str, Any]:
    """The form's starting values: the layer switch and the layer count are two controls."""
    values = params.to_dict()
    values["export_layers"] = params.layers != "off"
    values["layer_count"] = "auto" if params.layers == "off" else str(params.layers)
    # a size of the user's own goes in the text field; the list keeps "original" selected
    values["custom_size"] = "" if params.print_size in options.print_sizes else params.print_size
    if values["custom_size"]:
        values["print_size"] = options.print_sizes[0]
    for name in STEPS:  # "30", not "30.0", in the millimetre fields
        values[name] = f"{values[name]:g}"
    return values


def number_inputs(options: FormOptions) -> dict[str, dict[str, Any]]:
    """min, max and step of each numeric control, from the same ranges GET /api/options reports."""
    return {
        name: {
            "min": bounds.min,
            "max": bounds.max,
            "step": 1 if bounds.integer else STEPS.get(name, FRACTION_STEP),
        }
        for name, bounds in options.numbers.items()
    }


def page_context(presets: Presets, installed: Installed) -> dict[str, Any]:
    options = form_options(installed.depth_engines)
    return {
        "values": form_values(presets.last_used_params(), options),
        "modes": [
            {"value": mode, "label": label(mode, MODE_LABELS), "note": MODE_NOTES[mode]}
            for mode in options.modes
        ],
        "styles": [{"value": style, "label": label(style)} for style in options.styles],
        "print_sizes": [
            {"value": size, "label": label(size, PRINT_SIZE_LABELS)} for size in options.print_sizes
        ],
        "formats": [{"value": fmt, "label": label(fmt, FORMAT_LABELS)} for fmt in options.formats],
        "fits": [{"value": fit, "label": label(fit, FIT_LABELS)} for fit in options.fits],
        "intents": [{"value": intent, "label": label(intent, INTENT_LABELS)} for intent in options.intents],
        "depth_engines": options.depth_engines,
        "dpis": options.dpis,
        "layer_counts": [count for count in options.layers if isinstance(count, int)],
        "variations": range(options.variations.min, options.variations.max + 1),
        "ranges": number_inputs(options),
        "prompt_max": options.prompt_max_chars,
        "stages": STAGES,
        "painterly_stages": STAGES,
        "photo_stages": PHOTO_STAGES,
        "layer_tints": [css_colour(tint) for tint in LAYER_TINTS],  # the overlay's colours, front first
        "presets": [preset.name for preset in presets.all()],
        "accept": accept_attribute(),
        "accepted_formats": ", ".join(ACCEPTED_FORMATS),
        "engine_notes": engine_notes(installed.engines),
    }


STAGE_LABELS = {"depth": "Depth", "paint": "Painting", "upscale": "Upscaling"}
ENGINE_LABELS = {"classical": "classical estimator", "classical-strokes": "classical brush strokes",
                 "stable-diffusion": "Stable Diffusion 1.5 + ControlNet", "lanczos": "Lanczos + sharpening"}


def engine_notes(engines: Mapping[str, str]) -> list[dict[str, Any]]:
    """One line per stage: which engine runs, and whether that is the fallback for missing weights."""
    return [
        {"stage": STAGE_LABELS.get(stage, stage), "engine": ENGINE_LABELS.get(engine, engine),
         "fallback": engine == FALLBACK_ENGINES.get(stage)}
        for stage, engine in engines.items()
    ]


@get("/", sync_to_thread=True, include_in_schema=False)  # reads the database
def index(presets: NamedDependency[Presets], installed: NamedDependency[Installed]) -> Template:
    return Template(template_name="index.html", context=page_context(presets, installed))


web_router = Router(path="/", route_handlers=[index])
