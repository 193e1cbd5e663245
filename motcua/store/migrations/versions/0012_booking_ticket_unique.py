"""one booking per ticket: the database refuses a second booking linked to the same ticket
(two check-ins racing on PostgreSQL could each see the ticket free)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A ticket linked twice before this (never seen): the earliest booking keeps it.
    op.execute(sa.text(
        "UPDATE bookings SET ticket_id = NULL WHERE ticket_id IS NOT NULL AND id > "
        "(SELECT MIN(b2.id) FROM bookings b2 WHERE b2.ticket_id = bookings.ticket_id)"))
    op.drop_index("ix_bookings_ticket", table_name="bookings")
    op.create_index("ix_bookings_ticket", "bookings", ["ticket_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_bookings_ticket", table_name="bookings")
    op.create_index("ix_bookings_ticket", "bookings", ["ticket_id"])
