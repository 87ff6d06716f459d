"""The Huey queue on its SQLite storage (one computer) and on a real Redis (a shop): what one process
enqueues, another takes, once; on Redis each lane is a queue of its own; a Redis that can't be used is
refused in one line without the password."""

from __future__ import annotations

import pytest

from rilievo.adapters.huey_queue import RUN_JOB, HueyQueue, QueueUnavailable
from rilievo.domain.workers import DIFFUSION, STANDARD
from tests.servers import PASSWORD, free_port


@pytest.fixture(params=["sqlite", "redis"])
def open_queue(request, tmp_path):
    """Opens the same queue as another process would: on the SQLite file, or on the Redis server."""
    if request.param == "sqlite":
        return lambda: HueyQueue.on_sqlite(tmp_path / "queue.sqlite3")
    url = request.getfixturevalue("redis_url")
    return lambda: HueyQueue.on_redis(url)


def take(queue: HueyQueue, lane: str = STANDARD) -> list[str]:
    """What a consumer of the lane would run now, run: the job ids handed to run_job."""
    huey, ran = queue.hueys.get(lane, queue.huey), []
    queue.handle_with(ran.append, lambda: None)
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
    return ran


def test_jobs_enqueued_by_one_process_are_taken_once_by_another(open_queue):
    web, first_worker, second_worker = open_queue(), open_queue(), open_queue()
    for job_id in ("j1", "j2", "j3"):
        web.enqueue(job_id, STANDARD)
    assert [task.args for task in web.huey.pending() if task.name == RUN_JOB] == [("j1",), ("j2",), ("j3",)]
    assert take(first_worker) == ["j1", "j2", "j3"]
    assert take(second_worker) == []  # taken means gone from the queue


def test_on_redis_a_painterly_job_waits_in_its_own_lane_for_a_worker_of_that_lane(redis_url):
    web, cpu_worker, gpu_worker = (HueyQueue.on_redis(redis_url) for _ in range(3))
    web.enqueue("painting", DIFFUSION)
    web.enqueue("photo", STANDARD)
    assert take(cpu_worker, STANDARD) == ["photo"]
    assert take(gpu_worker, DIFFUSION) == ["painting"]


def test_on_sqlite_one_queue_takes_every_lane_for_the_one_worker(tmp_path):
    web, worker = HueyQueue.on_sqlite(tmp_path / "queue.sqlite3"), HueyQueue.on_sqlite(tmp_path / "queue.sqlite3")
    web.enqueue("painting", DIFFUSION)
    web.enqueue("photo", STANDARD)
    assert worker.lanes == (STANDARD,) and take(worker) == ["painting", "photo"]


def test_a_redis_that_cannot_be_used_is_refused_in_one_line_without_the_password(redis_server):
    where = f"redis://127.0.0.1:{redis_server.port}/0"
    with pytest.raises(QueueUnavailable) as wrong:
        HueyQueue.on_redis(redis_server.url(password="not-the-password"))
    assert str(wrong.value) == f"Redis at {where} refused the password: check RILIEVO_QUEUE"
    with pytest.raises(QueueUnavailable, match=rf"^Redis at {where} wants a password: put it in RILIEVO_QUEUE"):
        HueyQueue.on_redis(f"redis://127.0.0.1:{redis_server.port}/0")
    port = free_port()
    with pytest.raises(QueueUnavailable) as unreachable:
        HueyQueue.on_redis(f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
    assert str(unreachable.value).startswith(f"can't reach Redis at redis://127.0.0.1:{port}/0 (")
    assert "RILIEVO_QUEUE" in str(unreachable.value) and PASSWORD not in str(unreachable.value)
