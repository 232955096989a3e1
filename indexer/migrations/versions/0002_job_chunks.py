"""Reindex chunks: one row per chunk of a job, so a chunk's progress counts exactly once and a job whose
worker died can be resumed from its unfinished chunks.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_chunks",
        sa.Column("job_id", sa.String(36), primary_key=True),
        sa.Column("idx", sa.Integer(), primary_key=True),
        sa.Column("after", sa.String(255), nullable=True),  # keyset cursor: product ids > after
        sa.Column("seen", sa.Integer(), nullable=False),  # products enumerated before this chunk
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),  # queued | done
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_chunks")
