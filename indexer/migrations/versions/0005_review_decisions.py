"""Review decisions of the offline re-tagger's queue: per proposed value of one product version, whether the
merchant accepted or rejected it. A rejected value is not proposed again for that content (its content hash);
a changed product may be.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "review_decisions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(255), nullable=False),
        sa.Column("attribute", sa.String(255), nullable=False),  # taxonomy attribute handle, or "category"
        sa.Column("value", sa.String(255), nullable=False),  # value handle, or category id
        sa.Column("decision", sa.String(16), nullable=False),  # accept | reject
        sa.Column("content_hash", sa.String(64), nullable=False),  # the product version it was proposed for
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("store", "product_id", "attribute", "value", "content_hash",
                            name="uq_review_decisions_key"),
    )


def downgrade() -> None:
    op.drop_table("review_decisions")
