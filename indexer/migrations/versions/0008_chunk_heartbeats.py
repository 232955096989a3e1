"""Reindex chunks get a heartbeat: a running chunk's worker beats every few seconds, so a chunk whose worker
died is found (and requeued) from its own silence within seconds, whatever the broker does with the dead
worker's message (Redis returns it only after its visibility timeout).

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_chunks") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))  # last beat while running
        batch.add_column(sa.Column("starts", sa.Integer(), nullable=False, server_default="0"))  # runs begun


def downgrade() -> None:
    with op.batch_alter_table("job_chunks") as batch:
        batch.drop_column("starts")
        batch.drop_column("heartbeat_at")
