"""The `rilievo` command line: thin, every decision is in the services."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import attrs

from rilievo.domain.errors import InvalidParameter, RilievoError
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.params import MODES, STYLES, RenderParams

from .bootstrap import Settings, bootstrap, parse_megabytes
from .logs import configure_logging
from .memory import give_freed_memory_back
from .cleanup_cli import add_cleanup_command
from .models_cli import FALLBACK_ENGINES, add_models_commands
from .settings_text import as_argument

EXIT_OK, EXIT_JOB_FAILED, EXIT_REFUSED = 0, 1, 2
LAYER_FILE = re.compile(r"Layer_\d_(front|mid|back)\.png")
RENDER_OPTIONS = (
    "mode", "style", "painterliness", "depth_influence", "brush_scale", "edition", "prompt", "layers",
    "feather",
    "sharpen", "seed", "near", "dpi", "refine_edges", "fill_behind", "min_feature_mm", "white_ink",
    "white_ink_choke", "mirror", "marks", "frame_depth_mm", "print_size", "fit", "bleed", "format", "cmyk_profile",
    "intent", "ink_limit", "depth_engine",
)


def layers_choice(text: str) -> str | int:
    return text if text in ("auto", "off") else int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rilievo", description="Photo to print-ready depth layers.")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    commands = parser.add_subparsers(dest="command", required=True)

    render = commands.add_parser("render", help="render a photo into a layered output folder")
    render.add_argument("photo", type=Path, nargs="?", help="the photo (not with --replay)")
    render.add_argument("--replay", metavar="JOB_ID",
                        help="run an earlier job again from its record: same photo, parameters, seeds")
    render.add_argument("--mode", choices=MODES, default="photo",
                        help="photo keeps the photo; painterly repaints it (default: photo)")
    render.add_argument("--depth", type=Path, help="your own depth map instead of the estimated one")
    render.add_argument("--depth-engine", dest="depth_engine", default="auto", metavar="auto|classical|KEY",
                        help="estimate depth with this engine: an installed depth model (see `rilievo models "
                             "list`), the classical estimator, or auto, the best installed (default)")
    render.add_argument("--near", choices=["white", "black"], default="white",
                        help="which end of --depth is near (default: white)")
    render.add_argument("--layers", type=layers_choice, default="auto", metavar="auto|off|2|3|4|5")
    render.add_argument("--feather", type=int, default=2, metavar="PX", help="alpha feather, 0-10 px")
    render.add_argument("--sharpen", type=float, default=0.0, metavar="0..1")
    render.add_argument("--seed", type=int, default=42)
    printing = render.add_argument_group("print")
    printing.add_argument("--print", dest="print_size", default="original", metavar="SIZE",
                          help="8x10, 11x14, 16x20, 18x24, 24x36 (inches), A4, A3, A2, or WIDTHxHEIGHT with in, "
                               "mm or cm (e.g. 30x40cm); orientation follows the photo (default: original, the "
                               "photo's own pixels)")
    printing.add_argument("--dpi", type=int, default=300, choices=[300, 600], help="print resolution (default 300)")
    printing.add_argument("--fit", choices=["crop", "pad"], default="crop",
                          help="crop: fill the print, kept on the nearest subject; pad: the whole photo, white "
                               "borders (default crop)")
    printing.add_argument("--bleed", action="store_true", help="add 0.125 in (3 mm for metric sizes) on every side")
    printing.add_argument("--format", choices=["png16", "tiff", "tiff16", "cmyk-tiff"], default="png16",
                          help="written beside the 16-bit PNG (default: the PNG alone)")
    printing.add_argument("--cmyk-profile", dest="cmyk_profile", default="", metavar="ICC",
                          help="your print shop's CMYK profile (default: Ghostscript's SWOP profile)")
    printing.add_argument("--intent", choices=["perceptual", "relative"], default="perceptual",
                          help="CMYK rendering intent; relative is colorimetric with black-point compensation")
    printing.add_argument("--ink-limit", dest="ink_limit", type=int, default=0, metavar="PERCENT",
                          help="total ink limit for CMYK, 150-400 (default 0: the profile's own)")
    painterly = render.add_argument_group("painterly mode")
    painterly.add_argument("--style", choices=STYLES, default="oil-impressionist")
    painterly.add_argument("--painterliness", type=float, default=0.5, metavar="0.2..0.8",
                           help="how much of the photo's detail gives way to paint (default 0.5)")
    painterly.add_argument("--depth-influence", dest="depth_influence", type=float, default=0.6,
                           metavar="0..1", help="broader strokes further away (default 0.6)")
    painterly.add_argument("--brush-scale", dest="brush_scale", type=int, default=3, metavar="1..5")
    painterly.add_argument("--prompt", default="", help="your own words for the diffusion engine")
    painterly.add_argument("--edition", type=int, default=0, metavar="N",
                           help="print N of a numbered edition: the background varies a little from print "
                                "to print, the subject not (default 0: not an edition)")
    panes = render.add_argument_group("panes for 3D assembly")
    panes.add_argument("--no-refine", dest="refine_edges", action="store_false",
                       help="keep the layer outlines where the depth map puts them")
    panes.add_argument("--no-fill", dest="fill_behind", action="store_false",
                       help="leave the parts hidden behind nearer layers empty")
    panes.add_argument("--min-feature", dest="min_feature_mm", type=float, default=1.5, metavar="MM",
                       help="merge islands and slivers thinner than this into a neighbour (default 1.5)")
    panes.add_argument("--no-white-ink", dest="white_ink", action="store_false",
                       help="no white-ink (underbase) masks")
    panes.add_argument("--choke", dest="white_ink_choke", type=int, default=0, metavar="PX",
                       help="shrink the white ink inside the colour by 0-3 px (default 0)")
    panes.add_argument("--mirror", action="store_true", help="mirrored print files (second-surface)")
    panes.add_argument("--marks", action="store_true", help="crop and registration marks on the print files")
    panes.add_argument("--frame-depth", dest="frame_depth_mm", type=float, default=30.0, metavar="MM",
                       help="inside depth of the frame, for the suggested spacers (default 30)")
    render.add_argument("--out", type=Path, help="output folder (default: storage/outputs)")
    render.add_argument("--max-pixels", type=int, help="refuse photos larger than this many pixels")
    render.add_argument("--json", action="store_true", help="print one JSON object and nothing else")

    serve = commands.add_parser("serve", help="start the web app and a worker (Ctrl-C stops both)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-worker", action="store_true", help="start the web app alone")
    serve.add_argument("--max-upload-mb", type=as_argument(parse_megabytes), metavar="MB",
                       help="refuse uploads larger than this (also RILIEVO_MAX_UPLOAD_MB; default 300)")

    commands.add_parser("worker", help="start a worker alone: it runs the jobs queued by the web app")
    add_models_commands(commands)
    add_cleanup_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    give_freed_memory_back()
    if args.command == "render":
        return render(args)
    try:
        return run_service_command(args)
    except RilievoError as error:  # a bad RILIEVO_* setting, say
        return refuse(str(error), as_json=getattr(args, "json", False))


def run_service_command(args: argparse.Namespace) -> int:
    settings = Settings.from_environment()
    if args.command == "serve":
        from .serve import serve

        if args.max_upload_mb is not None:
            settings = attrs.evolve(settings, max_upload_mb=args.max_upload_mb)
        serve(settings, host=args.host, port=args.port, log_level=args.log_level, with_worker=not args.no_worker)
        return EXIT_OK
    if args.command == "models":
        from .models_cli import run_models

        return run_models(args, settings)
    if args.command == "worker":
        from .worker import run_worker

        run_worker(settings)
        return EXIT_OK
    from .cleanup_cli import run_cleanup

    return run_cleanup(args, settings)


def render(args: argparse.Namespace) -> int:
    from rilievo.adapters.huey_queue import this_worker

    started = time.perf_counter()
    try:
        params = RenderParams.from_mapping(
            {name: getattr(args, name) for name in RENDER_OPTIONS}
        )
        settings = Settings.from_environment()
        if args.max_pixels is not None:
            settings = attrs.evolve(settings, max_pixels=args.max_pixels)
        # the job is this process's: a server's worker on the same storage sees its owner alive and beating
        services = bootstrap(settings, worker_id=this_worker())
        progress = None if args.json else StageProgress()
        if (args.photo is None) == (args.replay is None):
            raise InvalidParameter("give either a PHOTO or --replay JOB_ID")
        services.depth_engines.check(params.depth_engine)  # before the photo is stored
        if args.replay is not None:
            job = services.replay(args.replay, destination=args.out, on_progress=progress)
        else:
            job = services.render(args.photo, params, depth_map=args.depth, destination=args.out,
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
        if stages := fallback_stages(job, services.engines):
            print(f"No learned weights installed for {' and '.join(stages)}: the classical engines ran. "
                  "`rilievo models pull` downloads them.")
    else:
        print(f"rilievo: job {job.id} failed: {job.error}", file=sys.stderr)
    return EXIT_OK if job.status is JobStatus.COMPLETED else EXIT_JOB_FAILED


def refuse(message: str, *, as_json: bool) -> int:
    print(f"rilievo: error: {message}", file=sys.stderr)
    if as_json:
        print(json.dumps({"status": "refused", "error": message}))
    return EXIT_REFUSED


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


def fallback_stages(job: Job, installed: dict[str, str]) -> list[str]:
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


if __name__ == "__main__":
    sys.exit(main())
