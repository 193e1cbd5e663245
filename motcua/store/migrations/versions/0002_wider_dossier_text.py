"""wider dossier procedure and field names (what provincial exports hold)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers") as batch:
        batch.alter_column("procedure", existing_type=sa.String(300), type_=sa.String(500), existing_nullable=False)
        batch.alter_column("field", existing_type=sa.String(120), type_=sa.String(200), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("dossiers") as batch:
        batch.alter_column("procedure", existing_type=sa.String(500), type_=sa.String(300), existing_nullable=False)
        batch.alter_column("field", existing_type=sa.String(200), type_=sa.String(120), existing_nullable=False)
