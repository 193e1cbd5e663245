"""device agents and offline number blocks (issue 16)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

from motcua.store.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_jobs",
        sa.Column("job_id", sa.String(40), nullable=False),
        sa.Column("agent", sa.String(40), nullable=False),
        sa.Column("device", sa.String(40), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("timeout_s", sa.Float, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime, nullable=True),
        sa.Column("finished", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_agent_jobs")),
    )
    op.create_index("ix_agent_jobs_open", "agent_jobs", ["agent", "finished"])
    op.create_table(
        "agent_blocks",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("agent", sa.String(40), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("first", sa.Integer, nullable=False),
        sa.Column("last", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_blocks")),
    )
    op.create_index("ix_agent_blocks_agent_day", "agent_blocks", ["agent", "business_date", "field"])
    op.create_table(
        "agent_handovers",
        sa.Column("uid", sa.String(40), nullable=False),
        sa.Column("agent", sa.String(40), nullable=False),
        sa.Column("ticket_id", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_agent_handovers")),
    )


def downgrade() -> None:
    op.drop_table("agent_handovers")
    op.drop_index("ix_agent_blocks_agent_day", table_name="agent_blocks")
    op.drop_table("agent_blocks")
    op.drop_index("ix_agent_jobs_open", table_name="agent_jobs")
    op.drop_table("agent_jobs")
