"""Real Redis and PostgreSQL servers for the tests of a shop's deployment, each started once per test session
in a temporary folder, on 127.0.0.1 and a free port, with a password; stopped at the end. scripts/test
installs Debian's redis-server and postgresql when they are missing. PostgreSQL refuses to run as root:
as root (CI) its folder belongs to, and it runs as, the unprivileged user nobody."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import attrs
import pytest

PASSWORD = "test-password"
USER = "rilievo"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def missing(program: str, package: str) -> None:
    pytest.fail(f"{program} is not installed: scripts/test installs it (Debian: apt-get install {package})",
                pytrace=False)


@attrs.frozen
class RedisServer:
    port: int
    process: subprocess.Popen
    folder: Path

    def url(self, db: int = 0, password: str = PASSWORD) -> str:
        return f"redis://:{password}@127.0.0.1:{self.port}/{db}"

    @classmethod
    def start(cls) -> RedisServer:
        program = shutil.which("redis-server")
        if program is None:
            missing("redis-server", "redis-server")
        folder, port = Path(tempfile.mkdtemp(prefix="rilievo-redis-")), free_port()
        process = subprocess.Popen(
            [program, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "",
             "--appendonly", "no", "--requirepass", PASSWORD, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        server = cls(port, process, folder)
        server.wait_ready()
        return server

    def client(self):
        import redis

        return redis.Redis.from_url(self.url())

    def wait_ready(self, timeout_s: float = 20.0) -> None:
        import redis

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.client().ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start (exit {self.process.poll()})") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        missing("PostgreSQL (initdb)", "postgresql")
    return Path(initdb).parent


@attrs.frozen
class PostgresServer:
    port: int
    folder: Path
    bin: Path

    def url(self, database: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql+psycopg://{USER}:{password}@127.0.0.1:{self.port}/{database}"

    @staticmethod
    def as_owner() -> list[str]:
        """The prefix that runs a PostgreSQL program as the folder's owner: nobody when we are root."""
        return ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []

    @classmethod
    def start(cls) -> PostgresServer:
        folder, port = Path(tempfile.mkdtemp(prefix="rilievo-pg-")), free_port()
        bin_ = postgres_bin()
        (folder / "password").write_text(PASSWORD)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            for path in (folder, folder / "password"):
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
        prefix = cls.as_owner()
        subprocess.run([*prefix, str(bin_ / "initdb"), "-D", str(folder / "data"), "-U", USER,
                        "--auth=scram-sha-256", f"--pwfile={folder / 'password'}", "--no-sync", "-E", "UTF8"],
                       check=True, capture_output=True)
        server = cls(port, folder, bin_)
        server.start_server()
        return server

    def pg_ctl(self, *arguments: str) -> None:
        subprocess.run([*self.as_owner(), str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), *arguments],
                       check=True, capture_output=True)

    def start_server(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off " \
                  "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        self.pg_ctl("-o", options, "-l", str(self.folder / "log"), "-w", "start")

    def stop_server(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")

    def admin(self):
        import psycopg

        return psycopg.connect(f"host=127.0.0.1 port={self.port} user={USER} password={PASSWORD} dbname=postgres",
                               autocommit=True)

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with self.admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop it (if it runs) and remove its folder."""
        subprocess.run([*self.as_owner(), str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m",
                        "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)
