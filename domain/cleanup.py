"""Which jobs and uploads a storage cleanup removes: finished jobs past an age, then the oldest finished jobs
until the storage they use fits a budget. Never a job that waits or runs."""

from __future__ import annotations

import enum
import math
import re
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Collection, Iterable, Mapping

import attrs

from .errors import InvalidParameter
from .job import FINISHED, Job, JobStatus
from .upload import Upload

# Decimal units as disk makers and file managers count them; the binary ones spelled out (GiB) too.
SIZE_UNITS = {
    "": 1, "B": 1,
    "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
    "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40,
}
SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([KMGT]?I?B?)\s*", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes from "50GB", "500 MB", "1.5TB", "2GiB" or a plain number of bytes."""
    match = SIZE.fullmatch(text)
    unit = match and match.group(2).upper()
    if not match or unit not in SIZE_UNITS:
        raise InvalidParameter(f"a storage size is a number and a unit such as 50GB or 500MB, got {text!r}")
    return int(Decimal(match.group(1)) * SIZE_UNITS[unit])  # Decimal: 4.35KB is 4350 bytes, not 4349


class Kept(enum.StrEnum):
    """Why a job stays: the words finish "N jobs kept: ..."."""

    RUNNING = "running"
    PENDING = "waiting to run"
    OUTSIDE = "files outside storage"  # a folder the user chose (render --out): not ours to delete
    RECENT = "within the age and budget"
    CHANGED = "changed during the cleanup"


@attrs.frozen
class CleanupPolicy:
    older_than: timedelta | None = None
    budget_bytes: int | None = None

    @classmethod
    def of(cls, *, older_than_days: float | None, budget_bytes: int | None) -> CleanupPolicy:
        if older_than_days is not None:
            if isinstance(older_than_days, bool) or not isinstance(older_than_days, (int, float)) \
                    or not math.isfinite(older_than_days) or older_than_days < 0:
                raise InvalidParameter(f"older_than_days must be a number of days >= 0, got {older_than_days!r}")
        if budget_bytes is not None:
            if isinstance(budget_bytes, bool) or not isinstance(budget_bytes, int) or budget_bytes < 0:
                raise InvalidParameter(f"budget_bytes must be a whole number of bytes >= 0, got {budget_bytes!r}")
        older_than = timedelta(days=older_than_days) if older_than_days is not None else None
        return cls(older_than=older_than, budget_bytes=budget_bytes)

    def cutoff(self, now: datetime) -> datetime | None:
        return now - self.older_than if self.older_than is not None else None


@attrs.frozen
class StoredJob:
    """What the policy knows of a job: its state, its age and the bytes its published files take."""

    id: str
    status: JobStatus
    since: datetime  # when it finished (or, lacking that, was created): its age counts from here
    bytes: int = 0
    in_store: bool = True

    @classmethod
    def of(cls, job: Job, *, bytes: int = 0, in_store: bool = True) -> StoredJob:
        return cls(id=job.id, status=job.status, since=job.finished_at or job.created_at, bytes=bytes,
                   in_store=in_store)

    @property
    def removable(self) -> bool:
        return self.status in FINISHED and self.in_store


@attrs.frozen
class CleanupPlan:
    expired: tuple[StoredJob, ...]  # finished before the cutoff
    over_budget: tuple[StoredJob, ...]  # the oldest of the rest, as many as it takes to fit the budget
    kept: tuple[tuple[StoredJob, Kept], ...]
    used_bytes: int  # by every job's files in the store, before the cleanup

    @property
    def remove(self) -> tuple[StoredJob, ...]:
        return self.expired + self.over_budget


def plan_cleanup(jobs: Iterable[StoredJob], policy: CleanupPolicy, now: datetime) -> CleanupPlan:
    """Finished jobs older than the cutoff, then the oldest finished jobs until the bytes left are at most
    the budget (or no finished job is left). Pending and processing jobs are always kept."""
    jobs = list(jobs)
    kept: list[tuple[StoredJob, Kept]] = []
    for job in jobs:
        if job.status is JobStatus.PROCESSING:
            kept.append((job, Kept.RUNNING))
        elif job.status is JobStatus.PENDING:
            kept.append((job, Kept.PENDING))
        elif not job.in_store:
            kept.append((job, Kept.OUTSIDE))
    oldest_first = sorted((job for job in jobs if job.removable), key=lambda job: (job.since, job.id))
    cutoff = policy.cutoff(now)
    expired = tuple(job for job in oldest_first if cutoff is not None and job.since < cutoff)
    rest = oldest_first[len(expired):]  # the expired ones are the oldest
    used = sum(job.bytes for job in jobs if job.in_store)
    left = used - sum(job.bytes for job in expired)
    over_budget: list[StoredJob] = []
    if policy.budget_bytes is not None:
        for job in rest:
            if left <= policy.budget_bytes:
                break
            over_budget.append(job)
            left -= job.bytes
    kept.extend((job, Kept.RECENT) for job in rest[len(over_budget):])
    return CleanupPlan(expired=expired, over_budget=tuple(over_budget), kept=tuple(kept), used_bytes=used)


def stale_uploads(uploads: Iterable[Upload], referenced: Collection[str], cutoff: datetime) -> tuple[Upload, ...]:
    """Uploads no job refers to (as photo or depth map) that were stored before the cutoff."""
    return tuple(upload for upload in uploads if upload.id not in referenced and upload.created_at < cutoff)


@attrs.frozen
class CleanupReport:
    older_than_days: float | None
    budget_bytes: int | None
    dry_run: bool
    removed_jobs: tuple[str, ...]  # removed, or with dry_run, that would be
    removed_bytes: int
    expired: int  # of removed_jobs, how many for their age
    over_budget: int  # and how many to fit the budget
    kept: Mapping[str, int] = attrs.field(converter=lambda d: MappingProxyType(dict(d)))  # why -> how many jobs
    used_bytes: int = 0  # by the jobs' files before the cleanup
    removed_uploads: tuple[str, ...] = ()
    removed_upload_bytes: int = 0

    @classmethod
    def of(cls, plan: CleanupPlan, policy: CleanupPolicy, *, removed: Collection[str], dry_run: bool = False,
           uploads: Iterable[Upload] = ()) -> CleanupReport:
        """removed: the ids of the planned jobs that went; the others changed meanwhile and stay."""
        expired = [job for job in plan.expired if job.id in removed]
        over_budget = [job for job in plan.over_budget if job.id in removed]
        reasons = [reason for _, reason in plan.kept]
        reasons += [Kept.CHANGED] * (len(plan.remove) - len(expired) - len(over_budget))
        uploads = tuple(uploads)
        return cls(
            older_than_days=policy.older_than / timedelta(days=1) if policy.older_than is not None else None,
            budget_bytes=policy.budget_bytes,
            dry_run=dry_run,
            removed_jobs=tuple(job.id for job in expired + over_budget),
            removed_bytes=sum(job.bytes for job in expired + over_budget),
            expired=len(expired),
            over_budget=len(over_budget),
            kept=sorted(Counter(str(reason) for reason in reasons).items()),
            used_bytes=plan.used_bytes,
            removed_uploads=tuple(upload.id for upload in uploads),
            removed_upload_bytes=sum(upload.bytes for upload in uploads),
        )

    @property
    def remaining_bytes(self) -> int:
        return self.used_bytes - self.removed_bytes

    @property
    def over_budget_still(self) -> bool:
        """True only when what runs, waits or lies outside the cleanup's reach still takes more."""
        return self.budget_bytes is not None and self.remaining_bytes > self.budget_bytes

    def to_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "older_than_days": self.older_than_days,
            "budget_bytes": self.budget_bytes,
            "removed_jobs": list(self.removed_jobs),
            "removed_bytes": self.removed_bytes,
            "expired": self.expired,
            "over_budget": self.over_budget,
            "kept": dict(self.kept),
            "used_bytes": self.used_bytes,
            "remaining_bytes": self.remaining_bytes,
            "over_budget_still": self.over_budget_still,
            "removed_uploads": list(self.removed_uploads),
            "removed_upload_bytes": self.removed_upload_bytes,
        }
