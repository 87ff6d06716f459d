"""`rilievo`: the parser of every command, and the dispatch to each."""

from __future__ import annotations

import argparse

import attrs

from rilievo.domain.errors import RilievoError

from ..logs import configure_logging
from ..memory import give_freed_memory_back
from ..settings import DEFAULT_MAX_UPLOAD_MB, Settings, as_argument, parse_megabytes, whole_number_above_zero
from .cleanup import add_cleanup_command, run_cleanup
from .models import add_models_commands, run_models
from .refusal import EXIT_OK, refuse
from .render import add_render_command, render


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rilievo", description="Photo to print-ready depth layers.")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    commands = parser.add_subparsers(dest="command", required=True)
    add_render_command(commands)

    serve = commands.add_parser("serve", help="start the web app and a worker (Ctrl-C stops both)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-worker", action="store_true", help="start the web app alone")
    serve.add_argument("--max-upload-mb", type=as_argument(parse_megabytes), metavar="MB",
                       help=f"refuse uploads larger than this (also RILIEVO_MAX_UPLOAD_MB; default "
                            f"{DEFAULT_MAX_UPLOAD_MB})")

    worker = commands.add_parser("worker", help="start a worker alone: it runs the jobs queued by the web app")
    worker.add_argument("--concurrency", type=as_argument(whole_number_above_zero), default=1, metavar="N",
                        help="run N jobs at once, in N worker processes (each loads its own models; default 1)")
    takes = worker.add_mutually_exclusive_group()
    takes.add_argument("--gpu", action="store_true",
                       help="this machine has a GPU: take the painterly jobs (Stable Diffusion), which other "
                            "workers leave (on a Redis queue; checked: torch must see the GPU)")
    takes.add_argument("--diffusion-on-cpu", action="store_true",
                       help="take the painterly jobs on this CPU anyway (a Stable Diffusion painting may "
                            "take an hour)")

    commands.add_parser("migrate", help="bring the database (RILIEVO_DATABASE, or the SQLite file in the "
                                        "storage folder) to this version's schema, then exit")
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
        from ..http.serve import serve  # uvicorn and Litestar only for the command that serves

        if args.max_upload_mb is not None:
            settings = attrs.evolve(settings, max_upload_mb=args.max_upload_mb)
        serve(settings, host=args.host, port=args.port, log_level=args.log_level, with_worker=not args.no_worker)
        return EXIT_OK
    if args.command == "models":
        return run_models(args, settings)
    if args.command == "worker":
        return run_worker_command(args, settings)
    if args.command == "migrate":
        from ..bootstrap import open_database
        from rilievo.adapters.sql_jobs import schema_revision

        revision = schema_revision(open_database(settings, migrate=True))
        print(f"The database ({settings.shown_database()}) is at schema {revision}.")
        return EXIT_OK
    return run_cleanup(args, settings)


def run_worker_command(args: argparse.Namespace, settings: Settings) -> int:
    from ..worker import lane_for, run_worker, run_workers  # Huey only for the command that consumes

    lane = lane_for(gpu=args.gpu, diffusion_on_cpu=args.diffusion_on_cpu)
    if args.concurrency == 1:
        run_worker(settings, lane=lane, log_level=args.log_level)
        return EXIT_OK
    options = ("--gpu",) if args.gpu else ("--diffusion-on-cpu",) if args.diffusion_on_cpu else ()
    return run_workers(settings, args.concurrency, log_level=args.log_level, options=options)
