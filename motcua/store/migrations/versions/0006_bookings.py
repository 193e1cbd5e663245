"""appointments (issue 15)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

from motcua.store.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("procedure", sa.String(64), nullable=True),
        sa.Column("procedure_name", sa.String(500), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("slot_start", UTCDateTime, nullable=False),
        sa.Column("slot_end", UTCDateTime, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("staff_id", sa.Integer, nullable=True),
        sa.Column("ticket_id", sa.Integer, nullable=True),
        sa.Column("moves", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("checked_in_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("code", name=op.f("uq_bookings_code")),
    )
    op.create_index("ix_bookings_slot", "bookings", ["field", "slot_start"])
    op.create_index("ix_bookings_phone", "bookings", ["phone", "business_date"])
    op.create_index("ix_bookings_day", "bookings", ["business_date", "status"])
    op.create_index("ix_bookings_ticket", "bookings", ["ticket_id"])
    op.create_table(
        "booking_locks",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_booking_locks")),
    )


def downgrade() -> None:
    op.drop_table("booking_locks")
    for name in ("ix_bookings_ticket", "ix_bookings_day", "ix_bookings_phone", "ix_bookings_slot"):
        op.drop_index(name, table_name="bookings")
    op.drop_table("bookings")
