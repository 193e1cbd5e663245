"""covering index for waiting counts per field (issue's "ahead", queue:changed)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_waiting", "tickets", ["business_date", "status", "field", "priority"])


def downgrade() -> None:
    op.drop_index("ix_tickets_waiting", table_name="tickets")
