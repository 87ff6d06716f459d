"""`rilievo cleanup`: remove old finished jobs and their files, by age and by a storage budget (the worker
runs the same at start and then every hour)."""

from __future__ import annotations

import argparse
import json

from rilievo.application.cleanup import Cleanup
from rilievo.domain.cleanup import CleanupReport, parse_size
from rilievo.domain.errors import RilievoError

from ..bootstrap import cleanup_of, open_stores
from ..settings import Settings, as_argument, parse_days
from .models import human_bytes
from .refusal import EXIT_OK, refuse


def add_cleanup_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    cleanup = subparsers.add_parser(
        "cleanup", help="remove old finished jobs and their files (never a waiting or running job)",
        description="Remove finished jobs older than --older-than, then the oldest finished jobs until the jobs' "
                    "files fit --budget; with --older-than, also uploads that old that no remaining job uses. "
                    "Without the flags, RILIEVO_KEEP_DAYS and RILIEVO_STORAGE_BUDGET apply.")
    cleanup.add_argument("--older-than", dest="older_than", type=as_argument(parse_days), metavar="DAYS",
                         help="remove finished jobs finished more than DAYS ago (default: RILIEVO_KEEP_DAYS)")
    cleanup.add_argument("--budget", type=as_argument(parse_size), metavar="SIZE",
                         help="then remove the oldest finished jobs until the jobs' files take at most SIZE, "
                              "e.g. 50GB or 500MB (default: RILIEVO_STORAGE_BUDGET)")
    cleanup.add_argument("--dry-run", dest="dry_run", action="store_true",
                         help="say what would be removed, remove nothing")
    cleanup.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    return cleanup


def run_cleanup(args: argparse.Namespace, settings: Settings, *, cleanup: Cleanup | None = None) -> int:
    older_than = args.older_than if args.older_than is not None else settings.keep_days
    budget = args.budget if args.budget is not None else settings.storage_budget
    if older_than is None and budget is None:
        return refuse("nothing to clean up by: give --older-than DAYS or --budget SIZE, or set "
                      "RILIEVO_KEEP_DAYS or RILIEVO_STORAGE_BUDGET", as_json=args.json)
    try:
        if cleanup is None:
            cleanup = cleanup_of(open_stores(settings))
        report = cleanup.clean_up(older_than_days=older_than, budget_bytes=budget, dry_run=args.dry_run)
    except RilievoError as error:
        return refuse(str(error), as_json=args.json)
    print(json.dumps(report.to_dict()) if args.json else "\n".join(describe(report)))
    return EXIT_OK


def describe(report: CleanupReport) -> list[str]:
    """The report in a few sentences."""
    verb = "Would remove" if report.dry_run else "Removed"
    why = []
    if report.expired:
        why.append(f"{report.expired} finished more than {report.older_than_days:g} days ago")
    if report.over_budget:
        why.append(f"{report.over_budget} oldest to fit the {human_bytes(report.budget_bytes)} budget")
    lines = [f"{verb} {_jobs(len(report.removed_jobs))} ({human_bytes(report.removed_bytes)})"
             + (f": {', '.join(why)}." if why else ".")]
    if report.kept:
        reasons = ", ".join(f"{count} {reason}" for reason, count in report.kept.items())
        lines.append(f"Kept {_jobs(sum(report.kept.values()))}: {reasons}.")
    if report.older_than_days is not None:
        uploads = len(report.removed_uploads)
        lines.append(f"{verb} {uploads} upload{'' if uploads == 1 else 's'} no job uses "
                     f"({human_bytes(report.removed_upload_bytes)}).")
    budget = f" (budget {human_bytes(report.budget_bytes)})" if report.budget_bytes is not None else ""
    lines.append(f"Jobs' files: {human_bytes(report.used_bytes)} before, "
                 f"{human_bytes(report.remaining_bytes)} {'after' if report.dry_run else 'now'}{budget}.")
    if report.over_budget_still:
        lines.append("Still over the budget: what is left runs, waits or lies outside storage.")
    return lines


def _jobs(count: int) -> str:
    return f"{count} job{'' if count == 1 else 's'}"
