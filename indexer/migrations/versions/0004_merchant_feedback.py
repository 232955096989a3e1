"""Merchant feedback on suggestions: per suggested value, whether the merchant accepted, edited (to which
value) or rejected it, with the extractor that suggested it. An index on the change log by product, so a
product's latest change is found without a scan (the listing assistant polls it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "merchant_feedback",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("submission_id", sa.String(32), nullable=False),  # one POST: its decisions together
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(255), nullable=True),  # null: a listing not saved yet
        sa.Column("attribute", sa.String(255), nullable=False),  # taxonomy attribute handle, or "category"
        sa.Column("suggested_value", sa.String(255), nullable=False),  # value handle, or category id
        sa.Column("final_value", sa.String(255), nullable=True),  # null when rejected
        sa.Column("decision", sa.String(16), nullable=False),  # accepted | edited | rejected
        sa.Column("extractor", sa.String(64), nullable=False),
        sa.Column("extractor_version", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_merchant_feedback_store_product", "merchant_feedback", ["store", "product_id"])
    op.create_index("ix_outbox_product", "outbox", ["store", "product_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_product", table_name="outbox")
    op.drop_index("ix_merchant_feedback_store_product", table_name="merchant_feedback")
    op.drop_table("merchant_feedback")
