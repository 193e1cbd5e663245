"""administration, second pass (issue 12): notices with a schedule and a priority; the running
office configuration kept in the database with a version, so every server process applies a
change made on another one

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from motcua.store.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("starts_at", UTCDateTime, nullable=True))
        batch.add_column(sa.Column("ends_at", UTCDateTime, nullable=True))
        batch.add_column(sa.Column("priority", sa.String(8), nullable=False, server_default="normal"))
    op.create_table(
        "office_config",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("toml", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_config")),
    )
    # The one row every process reads (version 0: no office stored yet).
    row = sa.table("office_config", sa.column("id", sa.Integer), sa.column("version", sa.Integer),
                   sa.column("toml", sa.Text), sa.column("updated_at", UTCDateTime))
    op.bulk_insert(row, [{"id": 1, "version": 0, "toml": "", "updated_at": datetime.now(timezone.utc)}])


def downgrade() -> None:
    op.drop_table("office_config")
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("priority")
        batch.drop_column("ends_at")
        batch.drop_column("starts_at")
