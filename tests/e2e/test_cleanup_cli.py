"""`rilievo cleanup` end to end: a real process on a real storage folder, through a parser made here the
way cli.py makes its own (add_cleanup_command, then run_cleanup); and the worker's hourly run."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from rilievo.adapters.fs_store import FilesystemJobFiles
from rilievo.adapters.sql_jobs import SqlJobRepository, open_sqlite
from rilievo.domain.errors import InvalidParameter
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.params import RenderParams
from rilievo.entrypoints.cli.cleanup import add_cleanup_command, describe, run_cleanup
from rilievo.entrypoints.settings import cleanup_settings
from rilievo.entrypoints.worker import start_periodic_cleanup
from tests.subprocess_env import rilievo_env

NOW = datetime.now(timezone.utc)


def rilievo_cleanup(storage: Path, *args: str, **environment: str) -> subprocess.CompletedProcess:
    env = rilievo_env(storage, **environment)
    for variable in ("RILIEVO_KEEP_DAYS", "RILIEVO_STORAGE_BUDGET"):
        if variable not in environment:
            env.pop(variable, None)
    command = [sys.executable, "-m", "rilievo.entrypoints.cli", "cleanup", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def storage(tmp_path) -> Path:
    return tmp_path / "storage"


def make_job(storage: Path, status: JobStatus, *, days_ago: float, size: int = 0) -> Job:
    """A job recorded in the real database as if it had run days_ago, its files in the real store."""
    files, jobs = FilesystemJobFiles(storage), SqlJobRepository(open_sqlite(storage / "rilievo.sqlite3"))
    then = NOW - timedelta(days=days_ago)
    job = Job.create(upload_id="u1", params=RenderParams(), now=then)
    if status is not JobStatus.PENDING:
        job = job.start(then, worker="host:1")
    if status is JobStatus.COMPLETED:
        files.write_text(job.id, "Layer_1_front.svg", "x" * size)
        folder = files.publish(job.id)
        job = job.complete(then, outputs={"Layer_1_front.svg": str(folder / "Layer_1_front.svg")},
                           output_dir=str(folder))
    jobs.add(job)
    return job


def job_ids(storage: Path) -> set[str]:
    return {job.id for job in SqlJobRepository(open_sqlite(storage / "rilievo.sqlite3")).all()}


def test_old_finished_jobs_are_removed_and_running_ones_reported_kept(storage):
    old = make_job(storage, JobStatus.COMPLETED, days_ago=40, size=1_000)
    recent = make_job(storage, JobStatus.COMPLETED, days_ago=1, size=1_000)
    running = make_job(storage, JobStatus.PROCESSING, days_ago=40)
    result = rilievo_cleanup(storage, "--older-than", "30", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["removed_jobs"] == [old.id] and report["removed_bytes"] == 1_000
    assert report["kept"] == {"running": 1, "within the age and budget": 1}
    assert job_ids(storage) == {recent.id, running.id}
    assert sorted(path.name for path in (storage / "outputs").iterdir()) == [recent.id]


def test_the_environment_applies_without_flags_and_a_dry_run_removes_nothing(storage):
    jobs = [make_job(storage, JobStatus.COMPLETED, days_ago=days, size=2_000_000) for days in (3, 2, 1)]
    result = rilievo_cleanup(storage, "--dry-run", RILIEVO_STORAGE_BUDGET="5MB")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Would remove 1 job (2.0 MB): 1 oldest to fit the 5.0 MB budget."
    assert "Kept 2 jobs: 2 within the age and budget." in result.stdout
    assert job_ids(storage) == {job.id for job in jobs}
    result = rilievo_cleanup(storage, "--budget", "3MB", RILIEVO_STORAGE_BUDGET="5MB")
    assert result.stdout.splitlines()[0] == "Removed 2 jobs (4.0 MB): 2 oldest to fit the 3.0 MB budget."
    assert job_ids(storage) == {jobs[2].id}


def test_a_bad_size_is_a_usage_error(storage):
    result = rilievo_cleanup(storage, "--budget", "lots")
    assert result.returncode == 2 and "50GB or 500MB" in result.stderr


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rilievo")
    add_cleanup_command(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["cleanup", *argv])


class CleanupSettings:
    def __init__(self, keep_days: float | None = None, storage_budget: int | None = None):
        self.keep_days, self.storage_budget = keep_days, storage_budget


def test_without_a_flag_or_a_setting_nothing_runs(capsys):
    assert run_cleanup(parse("--json"), CleanupSettings(), cleanup=object()) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "refused" and "RILIEVO_KEEP_DAYS" in captured.err


@pytest.mark.parametrize("environ, settings", [
    ({}, {"keep_days": None, "storage_budget": None}),
    ({"RILIEVO_KEEP_DAYS": "30", "RILIEVO_STORAGE_BUDGET": "50GB"}, {"keep_days": 30.0, "storage_budget": 50 * 10**9}),
    ({"RILIEVO_KEEP_DAYS": " ", "RILIEVO_STORAGE_BUDGET": "1.5 TB"}, {"keep_days": None, "storage_budget": 1_500 * 10**9}),
])
def test_settings_come_from_the_environment(environ, settings):
    assert cleanup_settings(environ) == settings


@pytest.mark.parametrize("environ, variable", [
    ({"RILIEVO_KEEP_DAYS": "a month"}, "RILIEVO_KEEP_DAYS"),
    ({"RILIEVO_KEEP_DAYS": "-1"}, "RILIEVO_KEEP_DAYS"),
    ({"RILIEVO_STORAGE_BUDGET": "50 gallons"}, "RILIEVO_STORAGE_BUDGET"),
])
def test_a_bad_setting_names_its_variable(environ, variable):
    with pytest.raises(InvalidParameter, match=variable):
        cleanup_settings(environ)


class CountingCleanup:
    def __init__(self, fail: bool = False):
        self.calls: list[tuple] = []
        self.fail = fail
        self.twice = threading.Event()

    def clean_up(self, *, older_than_days, budget_bytes):
        self.calls.append((older_than_days, budget_bytes))
        if len(self.calls) >= 2:
            self.twice.set()
        if self.fail:
            raise OSError("disk gone")


@pytest.mark.parametrize("fail", [False, True])
def test_the_worker_cleans_up_at_start_and_then_periodically_even_after_a_failure(fail):
    cleanup = CountingCleanup(fail)
    stop = start_periodic_cleanup(cleanup, CleanupSettings(keep_days=30), every_s=0.01)
    assert cleanup.twice.wait(5)
    stop()
    count = len(cleanup.calls)
    assert cleanup.calls[0] == (30, None)
    threading.Event().wait(0.05)
    assert len(cleanup.calls) == count


def test_the_worker_does_not_clean_up_without_a_setting():
    cleanup = CountingCleanup()
    start_periodic_cleanup(cleanup, CleanupSettings())()
    assert cleanup.calls == []


def test_the_report_reads_as_sentences():
    from rilievo.domain.cleanup import CleanupReport

    report = CleanupReport(older_than_days=30.0, budget_bytes=10**9, dry_run=False, removed_jobs=("a", "b", "c"),
                           removed_bytes=3 * 10**9, expired=2, over_budget=1, kept={"running": 3},
                           used_bytes=5 * 10**9, removed_uploads=("u",), removed_upload_bytes=10**6)
    assert describe(report) == [
        "Removed 3 jobs (3.0 GB): 2 finished more than 30 days ago, 1 oldest to fit the 1.0 GB budget.",
        "Kept 3 jobs: 3 running.",
        "Removed 1 upload no job uses (1.0 MB).",
        "Jobs' files: 5.0 GB before, 2.0 GB now (budget 1.0 GB).",
        "Still over the budget: what is left runs, waits or lies outside storage.",
    ]
