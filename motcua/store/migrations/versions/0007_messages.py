"""citizen messages, opt-in and outbox (issue 15)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

from motcua.store.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_subscriptions",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer, nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("phone_masked", sa.String(20), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("near_sent", sa.Boolean, nullable=False),
        sa.Column("called_sent", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_subscriptions")),
    )
    op.create_index("ix_message_subscriptions_ticket", "message_subscriptions", ["ticket_id"])
    op.create_index("ix_message_subscriptions_day", "message_subscriptions", ["business_date"])
    op.create_table(
        "message_dossiers",
        sa.Column("subscription_id", sa.Integer, nullable=False),
        sa.Column("dossier_code", sa.String(64), nullable=False),
        sa.Column("ready_sent", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("subscription_id", "dossier_code", name=op.f("pk_message_dossiers")),
    )
    op.create_index("ix_message_dossiers_code", "message_dossiers", ["dossier_code"])
    op.create_table(
        "message_outbox",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer, nullable=True),
        sa.Column("ticket_id", sa.Integer, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("phone_masked", sa.String(20), nullable=False),
        sa.Column("body", sa.String(1000), nullable=False),
        sa.Column("data", sa.JSON, nullable=True),
        sa.Column("dedupe", sa.String(120), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_try_at", UTCDateTime, nullable=False),
        sa.Column("last_error", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_outbox")),
        sa.UniqueConstraint("dedupe", name=op.f("uq_message_outbox_dedupe")),
    )
    op.create_index("ix_message_outbox_due", "message_outbox", ["status", "next_try_at"])
    op.create_index("ix_message_outbox_created", "message_outbox", ["created_at"])


def downgrade() -> None:
    for name in ("ix_message_outbox_created", "ix_message_outbox_due"):
        op.drop_index(name, table_name="message_outbox")
    op.drop_table("message_outbox")
    op.drop_index("ix_message_dossiers_code", table_name="message_dossiers")
    op.drop_table("message_dossiers")
    for name in ("ix_message_subscriptions_day", "ix_message_subscriptions_ticket"):
        op.drop_index(name, table_name="message_subscriptions")
    op.drop_table("message_subscriptions")
