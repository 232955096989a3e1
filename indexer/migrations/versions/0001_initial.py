"""Initial catalog store: stores, products, variants, images, extractions, embeddings, outbox,
sync_state, jobs, dead_letters.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stores",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "products",
        sa.Column("store", sa.String(64), primary_key=True),
        sa.Column("product_id", sa.String(255), primary_key=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("price", sa.Float(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["store"], ["stores.name"], name="fk_products_store"),
    )
    op.create_index("ix_products_content_hash", "products", ["content_hash"])
    for name, columns in (
        ("variants", [sa.Column("sku", sa.String(255), nullable=False),
                      sa.Column("options", sa.Text(), nullable=False),
                      sa.Column("price", sa.Float(), nullable=True)]),
        ("images", [sa.Column("uri", sa.Text(), nullable=False)]),
    ):
        op.create_table(
            name,
            sa.Column("store", sa.String(64), primary_key=True),
            sa.Column("product_id", sa.String(255), primary_key=True),
            sa.Column("position", sa.Integer(), primary_key=True),
            *columns,
            sa.ForeignKeyConstraint(["store", "product_id"], ["products.store", "products.product_id"],
                                    name=f"fk_{name}_product", ondelete="CASCADE"),
        )
    op.create_table(
        "extractions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("extractor", sa.String(64), nullable=False),
        sa.Column("extractor_version", sa.String(64), nullable=False),
        sa.Column("taxonomy_version", sa.String(64), nullable=False),
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(255), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("content_hash", "extractor", "extractor_version", "taxonomy_version",
                            name="uq_extractions_key"),
    )
    op.create_index("ix_extractions_product", "extractions", ["store", "product_id"])
    op.create_table(
        "embeddings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(255), nullable=False),
        sa.Column("op", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "sync_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("store", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_jobs_kind_store_state", "jobs", ["kind", "store", "state"])
    op.create_table(
        "dead_letters",
        sa.Column("store", sa.String(64), primary_key=True),
        sa.Column("product_id", sa.String(255), primary_key=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    for name in ("dead_letters", "jobs", "sync_state", "outbox", "embeddings", "extractions", "images",
                 "variants", "products", "stores"):
        op.drop_table(name)
