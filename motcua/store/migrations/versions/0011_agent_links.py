"""device agents with several server processes (issue 16): which process holds each agent's
link and the states of its devices, so every process shows them and the holder does the work

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

from motcua.store.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_links",
        sa.Column("agent", sa.String(40), nullable=False),
        sa.Column("holder", sa.String(40), nullable=False),
        sa.Column("seen_at", UTCDateTime, nullable=False),
        sa.Column("states", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("agent", name=op.f("pk_agent_links")),
    )


def downgrade() -> None:
    op.drop_table("agent_links")
