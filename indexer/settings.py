"""The one settings object: environment variables read once (DESIGN.md section 4)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_ignore_empty=True, extra="ignore")

    catalog_home: Path = Field(default=Path("./var"), validation_alias="CATALOG_HOME")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    elasticsearch_url: str | None = Field(default=None, validation_alias="ELASTICSEARCH_URL")
    qdrant_url: str | None = Field(default=None, validation_alias="QDRANT_URL")
    celery_broker_url: str | None = Field(default=None, validation_alias="CELERY_BROKER_URL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    extractor_backend: Literal["local", "openai", "lmdeploy"] = Field(
        default="local", validation_alias="EXTRACTOR_BACKEND"
    )
    extractor_url: str | None = Field(default=None, validation_alias="EXTRACTOR_URL")
    extractor_model: str | None = Field(default=None, validation_alias="EXTRACTOR_MODEL")
    # One request to the model server (openai backend): a server that hangs costs at most this per attempt.
    extractor_timeout_s: float = Field(default=30.0, gt=0, le=600, validation_alias="EXTRACTOR_TIMEOUT")
    # Query understanding (search issue): the deterministic rules, or an LLM on an OpenAI-compatible server
    # (URL and model default to the extractor's) that falls back to the rules on any failure.
    query_parser: Literal["rules", "llm"] = Field(default="rules", validation_alias="QUERY_PARSER")
    query_parser_url: str | None = Field(default=None, validation_alias="QUERY_PARSER_URL")
    query_parser_model: str | None = Field(default=None, validation_alias="QUERY_PARSER_MODEL")
    # On the shopper's real-time path: one attempt, then the rules answer.
    query_parser_timeout_s: float = Field(default=1.5, gt=0, le=30, validation_alias="QUERY_PARSER_TIMEOUT")
    catalog_admin_key: str | None = Field(default=None, validation_alias="CATALOG_ADMIN_KEY")
    # Rate limits (search_api.ratelimit), "N/s", "N/min" or "N/h": a key without a rate of its own, and
    # keyless search per client address; suggest calls running at once in one server process.
    rate_limit_default: str = Field(default="100/s", validation_alias="RATE_LIMIT_DEFAULT")
    rate_limit_public: str = Field(default="50/s", validation_alias="RATE_LIMIT_PUBLIC")
    suggest_concurrency: int = Field(default=4, ge=1, le=256, validation_alias="SUGGEST_CONCURRENCY")
    # Searches running at once per server process (the rest wait on the event loop): see search_api.routes.search.
    search_concurrency: int = Field(default=1, ge=1, le=256, validation_alias="SEARCH_CONCURRENCY")
    # Queued pipeline (issue 6). A message a dead worker held is redelivered after the visibility timeout;
    # a running job with no progress for `job_stale_after_s` is resumed by any worker's periodic check.
    celery_visibility_timeout_s: int = Field(default=600, validation_alias="CELERY_VISIBILITY_TIMEOUT")
    job_stale_after_s: int = Field(default=300, validation_alias="JOB_STALE_AFTER")
    # A running reindex chunk beats every CHUNK_STALE_AFTER/5 s; one silent for CHUNK_STALE_AFTER lost its worker
    # and any worker's sweep requeues it (issue 16), at most CHUNK_MAX_STARTS runs before its job fails.
    chunk_stale_after_s: float = Field(default=15.0, ge=1, le=3600, validation_alias="CHUNK_STALE_AFTER")
    chunk_max_starts: int = Field(default=8, ge=1, le=100, validation_alias="CHUNK_MAX_STARTS")
    reindex_chunk_size: int = Field(default=16, ge=1, le=1000, validation_alias="REINDEX_CHUNK_SIZE")
    # `catalog train` (issue 13): each attribute head answers above the threshold that reached this precision on
    # the store's held-out products, and reports that precision with its answers.
    head_target_precision: float = Field(default=0.80, gt=0, lt=1, validation_alias="HEAD_TARGET_PRECISION")
    worker_metrics_port: int | None = Field(default=None, validation_alias="WORKER_METRICS_PORT")
    # Photo downloads (issue 11): hosts or CIDRs that may be reached although private or loopback.
    image_fetch_allowlist: str = Field(default="", validation_alias="IMAGE_FETCH_ALLOWLIST")
    image_fetch_connect_timeout_s: float = Field(default=5.0, gt=0, le=120,
                                                 validation_alias="IMAGE_FETCH_CONNECT_TIMEOUT")
    image_fetch_read_timeout_s: float = Field(default=15.0, gt=0, le=300, validation_alias="IMAGE_FETCH_READ_TIMEOUT")
    image_fetch_concurrency: int = Field(default=16, ge=1, le=256, validation_alias="IMAGE_FETCH_CONCURRENCY")
    image_fetch_per_host: int = Field(default=6, ge=1, le=64, validation_alias="IMAGE_FETCH_PER_HOST")

    @field_validator("rate_limit_default", "rate_limit_public")
    @classmethod
    def _rate_parses(cls, value: str) -> str:
        from search_api.rates import parse_rate

        parse_rate(value)  # a bad rate fails when the settings are read, not at the first request
        return value

    @field_validator("image_fetch_allowlist")
    @classmethod
    def _allowlist_parses(cls, value: str) -> str:
        from indexer.photos.guard import Allowlist

        Allowlist.parse(value)  # a bad CIDR fails when the settings are read, not at the first download
        return value

    @property
    def sqlalchemy_url(self) -> str:
        """PostgreSQL when DATABASE_URL is set, else a SQLite file in CATALOG_HOME."""
        if self.database_url:
            url = self.database_url
            # SQLAlchemy's bare postgresql:// means psycopg2, which we do not ship; psycopg 3 is installed.
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{(self.catalog_home / 'catalog.db').resolve()}"

    @property
    def session_redis_url(self) -> str | None:
        """Conversation sessions live in Redis when one is configured."""
        if self.redis_url:
            return self.redis_url
        if self.celery_broker_url and self.celery_broker_url.startswith("redis"):
            return self.celery_broker_url
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
