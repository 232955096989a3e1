from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Path
from pydantic import BaseModel

from search_api.auth import AdminKey
from search_api.deps import RuntimeDep
from search_api.errors import ApiError

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


class JobPublic(BaseModel):
    job_id: str
    kind: str
    store: str | None
    state: str
    total: int
    done: int
    failed: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = None


@router.get("/{job_id}", response_model=JobPublic)
def get_job(principal: AdminKey, runtime: RuntimeDep, job_id: str = Path(max_length=64)) -> JobPublic:
    """A job of a store the admin key opens; another store's job is answered as one that does not exist."""
    job = runtime.catalog.get_job(job_id)
    if job is None or not principal.allows(job.store or "*", "admin"):
        raise ApiError(404, "unknown_job", f"no job {job_id!r}")
    return JobPublic(job_id=job.id, **job.model_dump(exclude={"id", "heartbeat_at"}))
