"""A shop's settings (RILIEVO_QUEUE, RILIEVO_DATABASE) on the command line, with real Redis and PostgreSQL
servers: `rilievo migrate` makes the schema; a bad one (unreachable, a wrong password, a database without
the schema, a worker asked for a GPU it lacks) is refused in one line, exit status 2, no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.servers import PASSWORD, free_port
from tests.subprocess_env import rilievo_env

pytestmark = pytest.mark.slow


def rilievo(tmp_path, *command: str, **variables: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rilievo.entrypoints.cli", *command],
                          env=rilievo_env(tmp_path / "storage", **variables), capture_output=True, text=True,
                          timeout=120)


def assert_refused(finished: subprocess.CompletedProcess, message: str) -> None:
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.startswith(f"rilievo: error: {message}"), finished.stderr
    assert finished.stderr.count("\n") == 1 and "Traceback" not in finished.stderr
    assert PASSWORD not in finished.stderr and "not-the-password" not in finished.stderr


def test_migrate_makes_the_schema_a_worker_then_accepts(tmp_path, postgres_url, redis_url):
    before = rilievo(tmp_path, "worker", RILIEVO_DATABASE=postgres_url, RILIEVO_QUEUE=redis_url)
    assert_refused(before, "the database at postgresql://127.0.0.1:")
    assert "has no Rilievo tables yet: run `rilievo migrate`" in before.stderr
    migrated = rilievo(tmp_path, "migrate", RILIEVO_DATABASE=postgres_url)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.startswith("The database (postgresql://127.0.0.1:") and "at schema 0005" in migrated.stdout
    assert "rilievo:" not in migrated.stdout  # the user name is never shown


@pytest.mark.parametrize("command", [["serve", "--no-worker", "--port", "0"], ["worker"], ["migrate"]])
def test_an_unreachable_or_refusing_postgresql_is_refused_in_one_line(tmp_path, postgres_server, command):
    port = free_port()
    unreachable = rilievo(tmp_path, *command,
                          RILIEVO_DATABASE=f"postgresql+psycopg://rilievo:{PASSWORD}@127.0.0.1:{port}/rilievo")
    assert_refused(unreachable, f"can't reach PostgreSQL at postgresql://127.0.0.1:{port}/rilievo (Connection refused)")
    wrong = rilievo(tmp_path, *command, RILIEVO_DATABASE=postgres_server.url(password="not-the-password"))
    assert_refused(wrong, f"PostgreSQL at postgresql://127.0.0.1:{postgres_server.port}/postgres refused the password")


@pytest.mark.parametrize("command", [["serve", "--no-worker", "--port", "0"], ["worker"]])
def test_an_unreachable_or_refusing_redis_is_refused_in_one_line(tmp_path, redis_server, command):
    port = free_port()
    unreachable = rilievo(tmp_path, *command, RILIEVO_QUEUE=f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
    assert_refused(unreachable, f"can't reach Redis at redis://127.0.0.1:{port}/0 (")
    wrong = rilievo(tmp_path, *command, RILIEVO_QUEUE=redis_server.url(password="not-the-password"))
    assert_refused(wrong, f"Redis at redis://127.0.0.1:{redis_server.port}/0 refused the password")


@pytest.mark.parametrize("variable, value, message", [
    ("RILIEVO_QUEUE", "amqp://guest:not-the-password@rabbit/", "RILIEVO_QUEUE: a Redis URL such as redis://host:6379/0 is needed"),
    ("RILIEVO_DATABASE", "mysql://shop:not-the-password@db/rilievo", "RILIEVO_DATABASE: a PostgreSQL URL such as"),
    ("RILIEVO_DATABASE", "postgresql://shop:not-the-password@db:port/rilievo", "RILIEVO_DATABASE: the port of host 'db' is not a number"),
])
def test_a_malformed_url_is_refused_before_anything_starts(tmp_path, variable, value, message):
    assert_refused(rilievo(tmp_path, "worker", **{variable: value}), message)
    assert not (tmp_path / "storage").exists()


def test_a_worker_asked_for_a_gpu_this_machine_lacks_refuses(tmp_path):
    assert_refused(rilievo(tmp_path, "worker", "--gpu", CUDA_VISIBLE_DEVICES=""), "--gpu: torch finds no CUDA or Apple GPU on this machine")


@pytest.mark.parametrize("variable, value, message", [
    ("RILIEVO_DATABASE", "postgresql://rilievo:not-the-password@db/rilievo", "RILIEVO_DATABASE needs psycopg: install"),
    ("RILIEVO_QUEUE", "redis://:not-the-password@queue:6379/0", "RILIEVO_QUEUE needs redis: install"),
])
def test_a_shop_setting_without_the_shop_extra_names_the_extra(tmp_path, variable, value, message):
    without_clients = ("import sys; sys.modules['psycopg'] = sys.modules['redis'] = None; "
                       "from rilievo.entrypoints.cli import main; sys.exit(main(['worker']))")
    finished = subprocess.run([sys.executable, "-c", without_clients], capture_output=True, text=True, timeout=120,
                              env=rilievo_env(tmp_path / "storage", **{variable: value}))
    assert_refused(finished, message)
    assert "rilievo[shop]" in finished.stderr
