"""Worker heartbeats on jobs; presets; settings (the last-used parameters).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from rilievo.adapters.sql_jobs import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("worker", sa.String(128)))
        batch.add_column(sa.Column("heartbeat_at", UtcDateTime))
    op.create_table(
        "presets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("params", sa.Text, nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_table("presets")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("worker")
