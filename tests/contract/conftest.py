import pytest

from rilievo.adapters.sql_jobs import open_postgres, open_sqlite

DATABASES = ["sqlite", "postgresql"]


def migrated_database(kind: str, request, tmp_path):
    """A migrated database engine of a kind Rilievo runs on: the SQLite file, or a real PostgreSQL."""
    if kind == "sqlite":
        return open_sqlite(tmp_path / "rilievo.sqlite3")
    return open_postgres(request.getfixturevalue("postgres_url"), migrate=True)


@pytest.fixture(params=DATABASES)
def database(request, tmp_path):
    return migrated_database(request.param, request, tmp_path)
