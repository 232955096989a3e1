"""Table definitions of the catalog store (SQLAlchemy Core). Migrations in indexer/migrations create them.

Narrow, engine-agnostic types only, so the same SQL runs on SQLite and PostgreSQL. Timestamps are
naive UTC. Merchant data (products, variants, images) is kept apart from derived data (extractions,
embeddings); the outbox is the ordered change log that index syncs consume. Product deletes are hard deletes
(an outbox 'delete' row records them); extractions stay, keyed by content hash, for reuse.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias); PostgreSQL gets a bigint.
BigId = BigInteger().with_variant(Integer(), "sqlite")

stores = Table(
    "stores", metadata,
    Column("name", String(64), primary_key=True),
    Column("created_at", DateTime(), nullable=False),
    Column("public_search", Boolean(), nullable=False, server_default=false()),  # search without a key
)

products = Table(
    "products", metadata,
    Column("store", String(64), primary_key=True),
    Column("product_id", String(255), primary_key=True),
    Column("title", Text(), nullable=False, default=""),
    Column("price", Float(), nullable=True),
    Column("data", Text(), nullable=False),  # the Product as JSON
    Column("content_hash", String(64), nullable=False),
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
    ForeignKeyConstraint(["store"], ["stores.name"], name="fk_products_store"),
)
Index("ix_products_content_hash", products.c.content_hash)

variants = Table(
    "variants", metadata,
    Column("store", String(64), primary_key=True),
    Column("product_id", String(255), primary_key=True),
    Column("position", Integer(), primary_key=True),
    Column("sku", String(255), nullable=False),
    Column("options", Text(), nullable=False),  # JSON object
    Column("price", Float(), nullable=True),
    Column("image", Text(), nullable=True),  # one of the product's image uris
    ForeignKeyConstraint(["store", "product_id"], ["products.store", "products.product_id"],
                         name="fk_variants_product", ondelete="CASCADE"),
)

images = Table(
    "images", metadata,
    Column("store", String(64), primary_key=True),
    Column("product_id", String(255), primary_key=True),
    Column("position", Integer(), primary_key=True),
    Column("uri", Text(), nullable=False),
    ForeignKeyConstraint(["store", "product_id"], ["products.store", "products.product_id"],
                         name="fk_images_product", ondelete="CASCADE"),
)

extractions = Table(
    "extractions", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("content_hash", String(64), nullable=False),
    Column("extractor", String(64), nullable=False),
    Column("extractor_version", String(64), nullable=False),
    Column("taxonomy_version", String(64), nullable=False),
    Column("store", String(64), nullable=False),
    Column("product_id", String(255), nullable=False),
    Column("data", Text(), nullable=False),  # the Extraction as JSON
    Column("created_at", DateTime(), nullable=False),
    UniqueConstraint("content_hash", "extractor", "extractor_version", "taxonomy_version",
                     name="uq_extractions_key"),
)
Index("ix_extractions_product", extractions.c.store, extractions.c.product_id)

embeddings = Table(
    "embeddings", metadata,
    Column("key", String(64), primary_key=True),  # sha256 of the embedded text
    Column("model", String(200), primary_key=True),
    Column("dim", Integer(), nullable=False),
    Column("vector", LargeBinary(), nullable=False),  # float32, little-endian
    Column("created_at", DateTime(), nullable=False),
)

outbox = Table(
    "outbox", metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("store", String(64), nullable=False),
    Column("product_id", String(255), nullable=False),
    Column("op", String(16), nullable=False),  # 'upsert' | 'delete'
    Column("created_at", DateTime(), nullable=False),
)

Index("ix_outbox_product", outbox.c.store, outbox.c.product_id)

sync_state = Table(
    "sync_state", metadata,
    Column("name", String(64), primary_key=True),
    Column("seq", BigInteger(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
)

jobs = Table(
    "jobs", metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("store", String(64), nullable=True),
    Column("state", String(16), nullable=False),  # queued | running | succeeded | failed
    Column("total", Integer(), nullable=False, default=0),
    Column("done", Integer(), nullable=False, default=0),
    Column("failed", Integer(), nullable=False, default=0),
    Column("created_at", DateTime(), nullable=False),
    Column("started_at", DateTime(), nullable=True),
    Column("finished_at", DateTime(), nullable=True),
    Column("heartbeat_at", DateTime(), nullable=True),
    Column("error", Text(), nullable=True),
)
Index("ix_jobs_kind_store_state", jobs.c.kind, jobs.c.store, jobs.c.state)

job_chunks = Table(
    "job_chunks", metadata,
    Column("job_id", String(36), primary_key=True),
    Column("idx", Integer(), primary_key=True),
    Column("after", String(255), nullable=True),
    Column("seen", Integer(), nullable=False),
    Column("size", Integer(), nullable=False),
    Column("state", String(16), nullable=False),  # queued | running | done
    Column("done", Integer(), nullable=False),
    Column("failed", Integer(), nullable=False),
    Column("created_at", DateTime(), nullable=False),
    Column("heartbeat_at", DateTime(), nullable=True),  # the running worker's last beat (migration 0008)
    Column("starts", Integer(), nullable=False, server_default="0"),  # runs begun: workers, retries, requeues
)

dead_letters = Table(
    "dead_letters", metadata,
    Column("store", String(64), primary_key=True),
    Column("product_id", String(255), primary_key=True),
    Column("error", Text(), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("last_at", DateTime(), nullable=False),
)

# Per suggested value, what the merchant did with it (the listing assistant sends it on save).
merchant_feedback = Table(
    "merchant_feedback", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("submission_id", String(32), nullable=False),  # one POST: its decisions together
    Column("store", String(64), nullable=False),
    Column("product_id", String(255), nullable=True),  # null: a listing not saved yet
    Column("attribute", String(255), nullable=False),  # taxonomy attribute handle, or "category"
    Column("suggested_value", String(255), nullable=False),  # value handle, or category id
    Column("final_value", String(255), nullable=True),  # null when rejected
    Column("decision", String(16), nullable=False),  # accepted | edited | rejected
    Column("extractor", String(64), nullable=False),
    Column("extractor_version", String(64), nullable=False),
    Column("created_at", DateTime(), nullable=False),
)
Index("ix_merchant_feedback_store_product", merchant_feedback.c.store, merchant_feedback.c.product_id)

# Review-queue decisions per proposed value of one product version (content hash): accept | reject.
review_decisions = Table(
    "review_decisions", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("store", String(64), nullable=False),
    Column("product_id", String(255), nullable=False),
    Column("attribute", String(255), nullable=False),  # taxonomy attribute handle, or "category"
    Column("value", String(255), nullable=False),  # value handle, or category id
    Column("decision", String(16), nullable=False),  # accept | reject
    Column("content_hash", String(64), nullable=False),
    Column("decided_at", DateTime(), nullable=False),
    UniqueConstraint("store", "product_id", "attribute", "value", "content_hash", name="uq_review_decisions_key"),
)

# Store API keys: only a SHA-256 of each key is kept; `id` is the key's visible, non-secret part.
api_keys = Table(
    "api_keys", metadata,
    Column("id", String(16), primary_key=True),
    Column("store", String(64), nullable=False),  # a store name, or "*" for a platform key
    Column("scopes", String(128), nullable=False),  # comma-separated
    Column("name", String(255), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("rate", String(32), nullable=True),  # e.g. "20/s", as given
    Column("created_at", DateTime(), nullable=False),
    Column("last_used_at", DateTime(), nullable=True),
    Column("expires_at", DateTime(), nullable=True),
    Column("revoked_at", DateTime(), nullable=True),
)
Index("ix_api_keys_store", api_keys.c.store)
