"""Alembic environment: runs on the connection handed over by open_sqlite, or on the configured URL."""

from alembic import context
from sqlalchemy import create_engine

from rilievo.adapters.sql_jobs import metadata

config = context.config


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    with create_engine(config.get_main_option("sqlalchemy.url")).begin() as own_connection:
        run(own_connection)
