import pytest


@pytest.fixture(scope="session")
def empty_hf_home(tmp_path_factory):
    return tmp_path_factory.mktemp("no-hf-home")


@pytest.fixture(autouse=True)
def no_real_hugging_face_cache(empty_hf_home, monkeypatch):
    """In-process code that reads the environment (Settings.from_environment) sees an empty Hugging Face
    cache, never the developer's; the processes a test starts get theirs from tests/subprocess_env.py."""
    monkeypatch.setenv("HF_HOME", str(empty_hf_home))
    monkeypatch.setenv("HF_HUB_CACHE", str(empty_hf_home / "hub"))


@pytest.fixture(scope="session")
def redis_server():
    """A real redis-server for the session (tests/servers.py)."""
    from tests.servers import RedisServer

    server = RedisServer.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    """The session's Redis, emptied for this test."""
    redis_server.client().flushall()
    return redis_server.url()


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL for the session (tests/servers.py)."""
    from tests.servers import PostgresServer

    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A new, empty database of its own on the session's PostgreSQL (no schema yet), dropped after the test."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)
