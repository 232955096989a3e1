from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Path
from pydantic import BaseModel

from search_api.auth import require_admin
from search_api.deps import RuntimeDep, require_catalog_store

router = APIRouter(prefix="/v1/stores/{store}/reindex", tags=["reindex"])


class ReindexAccepted(BaseModel):
    job_id: str
    state: str
    created: bool


@router.post("", status_code=202, response_model=ReindexAccepted, dependencies=[Depends(require_admin)])
def reindex_store(runtime: RuntimeDep, background: BackgroundTasks,
                  store: str = Path(max_length=64)) -> ReindexAccepted:
    """Queue a reindex of the store on `bulk`; while one is queued or running, that one is returned."""
    from indexer.reindex import start_reindex
    from indexer.tasks.reindex import reindex_store as reindex_task
    from search_api.routes.products import queue_task

    require_catalog_store(runtime, store)
    job, created = start_reindex(runtime.catalog, store)
    if created:
        queue_task(reindex_task, [job.id], background)
    return ReindexAccepted(job_id=job.id, state=job.state, created=created)
