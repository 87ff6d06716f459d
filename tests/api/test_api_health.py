"""/api/health: the storage usable, where the queue and database are (never a password), and the workers seen
in the last minute."""

from datetime import timedelta

import attrs
from litestar.testing import TestClient

from rilievo.adapters.sql_jobs import SqlWorkerRoster
from rilievo.domain.workers import DIFFUSION, STANDARD, WorkerSeen
from rilievo.entrypoints.bootstrap import utc_now
from rilievo.entrypoints.http.app import create_app


def test_health_lists_the_workers_seen_in_the_last_minute(web, client):
    roster: SqlWorkerRoster = web.health.roster
    now = utc_now()
    roster.seen(WorkerSeen("print-room-1:41", STANDARD, started_at=now - timedelta(hours=1), seen_at=now))
    roster.seen(WorkerSeen("gpu-box:7", DIFFUSION, started_at=now, seen_at=now - timedelta(seconds=20)))
    roster.seen(WorkerSeen("unplugged:9", STANDARD, started_at=now, seen_at=now - timedelta(minutes=2)))
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["queue"] == "sqlite" and health["database"] == "sqlite"
    assert [(worker["name"], worker["lane"]) for worker in health["workers"]] == [
        ("gpu-box:7", "diffusion"), ("print-room-1:41", "standard")]


def test_health_names_a_shops_servers_without_their_credentials(web, tmp_path):
    from rilievo.entrypoints.settings import Settings

    settings = Settings(tmp_path, tmp_path, queue_url="redis://:s3cret@queue.shop:6380/2",
                        database_url="postgresql+psycopg://rilievo:s3cret@db.shop/rilievo")
    shop = attrs.evolve(web, health=attrs.evolve(web.health, queue=settings.shown_queue(),
                                                 database=settings.shown_database()))
    with TestClient(create_app(shop), base_url="http://127.0.0.1") as client:
        health = client.get("/api/health").json()
    assert health["queue"] == "redis://queue.shop:6380/2"
    assert health["database"] == "postgresql://db.shop:5432/rilievo"
