"""What a render job goes through and what it leaves: the stages in the order they run, and the names
of the files it writes. The one source for the pipeline, the API, the page and the tests."""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

# Where each stage starts and ends on the job's 0-1 progress scale, in the order the stages run.
STAGE_SPAN: Mapping[str, tuple[float, float]] = MappingProxyType({
    "ingest": (0.0, 0.05),
    "depth": (0.05, 0.2),
    "paint": (0.2, 0.45),  # painterly mode only
    "post-process": (0.45, 0.5),
    "layers": (0.5, 0.65),
    "upscale": (0.65, 0.97),  # the print files, band by band at print size
    "export": (0.97, 1.0),
})
STAGES = tuple(STAGE_SPAN)

RESULT_STEM = "composite_full"  # the final image, one file per format: composite_full.png, ...
FORMAT_FILES: Mapping[str, str | None] = MappingProxyType({
    "png16": None, "tiff": "composite_full.tif", "tiff16": "composite_full.tif",
    "cmyk-tiff": "composite_full.cmyk.tif",
})
PREVIEW, PROOF, DEPTH_MAP = "composite_preview.jpg", "soft_proof.jpg", "depth_map.png"
OVERLAY, PARALLAX, GUIDE = "layer_overlay.png", "parallax.gif", "assembly_guide.png"
PHOTO_PREVIEW, DEPTH_PREVIEW = "preview.png", "depth_preview.png"
MANIFEST, RECORD = "layer_manifest.json", "params.json"
LAYERS_ZIP = "layers.zip"


def progress_at(stage: str, within: float = 0.0) -> float:
    """The job's 0-1 progress at a fraction `within` of a stage."""
    start, end = STAGE_SPAN[stage]
    return start + (end - start) * within


def layer_set(manifest: dict) -> list[str]:
    """What goes to the print shop in one zip: every pane's files, the manifest and the guide."""
    files = []
    for layer in manifest["layers"]:
        files += [layer[key] for key in ("file", "print_file", "white_ink_file", "cut_file") if layer[key]]
    return [*files, MANIFEST, GUIDE]
