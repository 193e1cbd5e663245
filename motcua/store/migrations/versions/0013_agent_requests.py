"""device agents with several server processes (issue 16): the administrator's test call and
unplug/replug of an agent's device, asked through any process, done by the process holding the
agent's link

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

from motcua.store.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_requests",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("agent", sa.String(40), nullable=False),
        sa.Column("device", sa.String(40), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("taken_by", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_requests")),
    )
    op.create_index("ix_agent_requests_open", "agent_requests", ["agent", "taken_by"])


def downgrade() -> None:
    op.drop_index("ix_agent_requests_open", table_name="agent_requests")
    op.drop_table("agent_requests")
