"""`rilievo render`: a photo (or an earlier job, replayed) into a layered output folder, in this process.

Every RenderParams field is an option whose default, type, choices and range come from the domain's own
definitions (domain/params.py), as the web form's do (/api/options); here is only how each is written and
explained on the command line."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, Mapping

import attrs

from rilievo.domain import params as domain
from rilievo.domain.errors import InvalidParameter, RilievoError
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.params import RenderParams
from rilievo.domain.print_layout import INCH_PRESETS, ISO_PRESETS

from ..bootstrap import work_side
from ..engines import FALLBACK_ENGINES
from ..settings import Settings
from .refusal import EXIT_FAILED, EXIT_OK, refuse

LAYER_FILE = re.compile(r"Layer_\d_(front|mid|back)\.png")
FIELDS = attrs.fields_dict(RenderParams)
NUMERIC_RANGES = domain.numeric_ranges()
# the domain's choices for the fields that have a closed set
CHOICES: dict[str, tuple] = {
    "mode": domain.MODES,
    "near": domain.NEAR_CONVENTIONS,
    "dpi": domain.DPIS,
    "fit": domain.FITS,
    "format": domain.FORMATS,
    "intent": domain.INTENTS,
    "style": domain.STYLES,
}
RANGE = "RANGE"  # a metavar that shows the field's range, e.g. 0.2..0.8


def layers_choice(text: str) -> str | int:
    return text if text in ("auto", "off") else int(text)


def span(name: str) -> str:
    """The field's range as help text writes it: 0-10."""
    low, high, _ = NUMERIC_RANGES[name]
    return f"{low:g}-{high:g}"


def param_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, name: str, flag: str | None = None,
                 *, metavar: str | None = None, help: str | None = None) -> argparse.Action:
    """The option for the RenderParams field `name` (default flag: --field-name); help may use
    %(default)s or %(default)g."""
    field = FIELDS[name]
    options: dict[str, Any] = {"dest": name, "help": help}
    if isinstance(field.default, bool):  # a switch that turns the default around
        options["action"] = "store_false" if field.default else "store_true"
        return parser.add_argument(flag or f"--{name.replace('_', '-')}", **options)
    options["default"] = field.default
    if name in CHOICES:
        choices = CHOICES[name]
        options["choices"] = choices
        if not isinstance(choices[0], str):
            options["type"] = type(choices[0])
    elif name == "layers":
        options["type"] = layers_choice
        metavar = "|".join(map(str, domain.LAYER_CHOICES))
    elif name in NUMERIC_RANGES:
        low, high, integer = NUMERIC_RANGES[name]
        options["type"] = int if integer else float
        if metavar == RANGE:
            metavar = f"{low:g}..{high:g}"
    if metavar is not None:
        options["metavar"] = metavar
    return parser.add_argument(flag or f"--{name.replace('_', '-')}", **options)


def add_render_command(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    render = commands.add_parser("render", help="render a photo into a layered output folder")
    render.add_argument("photo", type=Path, nargs="?", help="the photo (not with --replay)")
    render.add_argument("--replay", metavar="JOB_ID",
                        help="run an earlier job again from its record: same photo, parameters, seeds")
    param_option(render, "mode", help="photo keeps the photo; painterly repaints it (default: %(default)s)")
    render.add_argument("--depth", type=Path, help="your own depth map instead of the estimated one")
    param_option(render, "depth_engine", metavar=f"{domain.AUTO_DEPTH}|{domain.CLASSICAL_DEPTH}|KEY",
                 help="estimate depth with this engine: an installed depth model (see `rilievo models list`), "
                      f"the {domain.CLASSICAL_DEPTH} estimator, or {domain.AUTO_DEPTH}, the best installed "
                      "(default)")
    param_option(render, "near", help="which end of --depth is near (default: %(default)s)")
    param_option(render, "layers")
    param_option(render, "feather", metavar="PX", help=f"alpha feather, {span('feather')} px")
    param_option(render, "sharpen", metavar=RANGE)
    param_option(render, "seed")

    printing = render.add_argument_group("print")
    param_option(printing, "print_size", "--print", metavar="SIZE",
                 help=f"{', '.join(INCH_PRESETS)} (inches), {', '.join(ISO_PRESETS)}, or WIDTHxHEIGHT with in, "
                      "mm or cm (e.g. 30x40cm); orientation follows the photo (default: %(default)s, the photo's "
                      "own pixels)")
    param_option(printing, "dpi", help="print resolution (default %(default)s)")
    param_option(printing, "fit", help="crop: fill the print, kept on the nearest subject; pad: the whole photo, "
                                       "white borders (default %(default)s)")
    param_option(printing, "bleed", help="add 0.125 in (3 mm for metric sizes) on every side")
    param_option(printing, "format", help="written beside the 16-bit PNG (default: the PNG alone)")
    param_option(printing, "cmyk_profile", metavar="ICC",
                 help="your print shop's CMYK profile (default: Ghostscript's SWOP profile)")
    param_option(printing, "intent",
                 help="CMYK rendering intent; relative is colorimetric with black-point compensation")
    param_option(printing, "ink_limit", metavar="PERCENT",
                 help=f"total ink limit for CMYK, {domain.MIN_INK_LIMIT}-{NUMERIC_RANGES['ink_limit'][1]} "
                      "(default %(default)s: the profile's own)")

    painterly = render.add_argument_group("painterly mode")
    param_option(painterly, "style")
    param_option(painterly, "painterliness", metavar=RANGE,
                 help="how much of the photo's detail gives way to paint (default %(default)g)")
    param_option(painterly, "depth_influence", metavar=RANGE,
                 help="broader strokes further away (default %(default)g)")
    param_option(painterly, "brush_scale", metavar=RANGE)
    param_option(painterly, "prompt", help="your own words for the diffusion engine")
    param_option(painterly, "edition", metavar="N",
                 help="print N of a numbered edition: the background varies a little from print to print, "
                      "the subject not (default %(default)s: not an edition)")

    panes = render.add_argument_group("panes for 3D assembly")
    param_option(panes, "refine_edges", "--no-refine", help="keep the layer outlines where the depth map puts them")
    param_option(panes, "fill_behind", "--no-fill", help="leave the parts hidden behind nearer layers empty")
    param_option(panes, "min_feature_mm", "--min-feature", metavar="MM",
                 help="merge islands and slivers thinner than this into a neighbour (default %(default)g)")
    param_option(panes, "white_ink", "--no-white-ink", help="no white-ink (underbase) masks")
    param_option(panes, "white_ink_choke", "--choke", metavar="PX",
                 help=f"shrink the white ink inside the colour by {span('white_ink_choke')} px "
                      "(default %(default)s)")
    param_option(panes, "mirror", help="mirrored print files (second-surface)")
    param_option(panes, "marks", help="crop and registration marks on the print files")
    param_option(panes, "frame_depth_mm", "--frame-depth", metavar="MM",
                 help="inside depth of the frame, for the suggested spacers (default %(default)g)")

    render.add_argument("--out", type=Path, help="output folder (default: storage/outputs)")
    render.add_argument("--max-pixels", type=int, help="refuse photos larger than this many pixels")
    render.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    return render


def render_params(args: argparse.Namespace) -> RenderParams:
    return RenderParams.from_mapping({name: getattr(args, name) for name in FIELDS})


def render(args: argparse.Namespace) -> int:
    from rilievo.adapters.liveness import this_worker

    started = time.perf_counter()
    try:
        params = render_params(args)
        settings = Settings.from_environment()
        if args.max_pixels is not None:
            settings = attrs.evolve(settings, max_pixels=args.max_pixels)
        # the job is this process's: a server's worker on the same storage sees its owner alive and beating
        work = work_side(settings, worker_id=this_worker())
        progress = None if args.json else StageProgress()
        if (args.photo is None) == (args.replay is None):
            raise InvalidParameter("give either a PHOTO or --replay JOB_ID")
        work.installed.depth_engines.check(params.depth_engine)  # before the photo is stored
        if args.replay is not None:
            job = work.render_now.replay(args.replay, destination=args.out, on_progress=progress)
        else:
            job = work.render_now.render(args.photo, params, depth_map=args.depth, destination=args.out,
                                          on_progress=progress)
    except RilievoError as error:
        return refuse(str(error), as_json=args.json)
    seconds = round(time.perf_counter() - started, 2)
    if args.json:
        print(json.dumps(summary(job, seconds)))
    elif job.status is JobStatus.COMPLETED:
        layer_count = summary(job, seconds)["layer_count"]
        print(f"Done in {seconds} s ({engines_text(job)}): {layer_count} layers in {job.output_dir}")
        for warning in job.warnings:
            print(f"Warning: {warning}")
        if stages := fallback_stages(job, work.installed.engines):
            print(f"No learned weights installed for {' and '.join(stages)}: the classical engines ran. "
                  "`rilievo models pull` downloads them.")
    else:
        print(f"rilievo: job {job.id} failed: {job.error}", file=sys.stderr)
    return EXIT_OK if job.status is JobStatus.COMPLETED else EXIT_FAILED


def summary(job: Job, seconds: float) -> dict:
    files = sorted(Path(path).name for path in job.outputs.values())
    return {
        "job_id": job.id,
        "status": job.status.value,
        "mode": job.params.mode,
        "engines": dict(job.engines),
        "output_dir": job.output_dir,
        "files": files,
        "layer_count": sum(bool(LAYER_FILE.fullmatch(name)) for name in files),
        "seconds": seconds,
        "warnings": list(job.warnings),
        **({"error": job.error} if job.error else {}),
    }


def fallback_stages(job: Job, installed: Mapping[str, str]) -> list[str]:
    """The stages of this job that ran a classical engine because no weights are installed (a
    supplied depth map is the user's choice, not a fallback)."""
    return [stage for stage, engine in job.engines.items()
            if engine == FALLBACK_ENGINES.get(stage) and installed.get(stage) == engine]


def engines_text(job: Job) -> str:
    return ", ".join(f"{stage}: {engine}" for stage, engine in job.engines.items())


class StageProgress:
    """One line per stage on stderr, with the time the previous stage took."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.since = time.perf_counter()

    def __call__(self, job: Job) -> None:
        if job.stage == self.stage:
            return
        now = time.perf_counter()
        if self.stage is not None:
            print(f"  {self.stage:<13} done in {now - self.since:.1f} s", file=sys.stderr)
        if job.stage is not None:
            print(f"[{job.progress:4.0%}] {job.stage} …", file=sys.stderr)
        self.stage, self.since = job.stage, now
