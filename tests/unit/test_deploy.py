"""deploy/compose.yaml (no Docker runs in the tests): every service's command is a rilievo command line
this version accepts, its settings parse and name the Compose services, and the order of starting holds."""

import re
from pathlib import Path

import yaml

from rilievo.entrypoints.cli.main import build_parser
from rilievo.entrypoints.settings import parse_database_url, parse_queue_url

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def with_example_values(text: str) -> str:
    values = dict(line.split("=", 1) for line in (DEPLOY / "example.env").read_text().splitlines()
                  if line and not line.startswith("#"))
    return re.sub(r"\$\{(\w+)(?::[?-][^}]*)?\}", lambda match: values[match.group(1)], text)


def test_the_compose_file_runs_migrate_web_workers_redis_and_postgresql():
    services = compose()["services"]
    assert set(services) == {"migrate", "web", "worker", "gpu-worker", "redis", "postgres"}
    for name in ("migrate", "web", "worker", "gpu-worker"):
        command = services[name]["command"]
        assert command[0] == "rilievo"
        build_parser().parse_args(command[1:])  # exits (fails the test) on an option this version lacks
    assert services["web"]["command"][-5:] == ["--no-worker", "--host", "0.0.0.0", "--port", "8000"]
    assert services["worker"]["deploy"]["replicas"] >= 2 and "--concurrency" in services["worker"]["command"]
    assert services["gpu-worker"]["command"][-1] == "--gpu" and services["gpu-worker"]["profiles"] == ["gpu"]
    for name in ("web", "worker", "gpu-worker"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_the_services_share_one_queue_one_database_and_one_storage():
    services = compose()["services"]
    for name in ("migrate", "web", "worker", "gpu-worker"):
        environment = services[name]["environment"]
        queue = parse_queue_url(with_example_values(environment["RILIEVO_QUEUE"]))
        database = parse_database_url(with_example_values(environment["RILIEVO_DATABASE"]))
        assert "@redis:6379/" in queue and "@postgres:5432/rilievo" in database
        assert "storage:/srv/rilievo/storage" in services[name]["volumes"]
    assert services["postgres"]["environment"]["POSTGRES_DB"] == "rilievo"
