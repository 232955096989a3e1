"""Store API keys (hashed at rest: only a SHA-256 of the key is kept) and a store's public-search flag.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),  # the visible, non-secret part of the key
        sa.Column("store", sa.String(64), nullable=False),  # a store name, or "*" for a platform key
        sa.Column("scopes", sa.String(128), nullable=False),  # comma-separated: search,suggest,write,admin
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),  # sha256 hex of the whole key
        sa.Column("rate", sa.String(32), nullable=True),  # e.g. "20/s", as given
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_api_keys_store", "api_keys", ["store"])
    # A plain ADD COLUMN (no batch copy of the table: products reference it), on both SQLite and PostgreSQL.
    op.add_column("stores", sa.Column("public_search", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("stores", "public_search")
    op.drop_index("ix_api_keys_store", "api_keys")
    op.drop_table("api_keys")
