"""The workers seen: each worker says every 20 s that it is alive, for /api/health.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from rilievo.adapters.sql_jobs import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("lane", sa.String(32), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("seen_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_workers_seen_at", "workers", ["seen_at"])


def downgrade() -> None:
    op.drop_table("workers")
