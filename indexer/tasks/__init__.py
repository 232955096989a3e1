"""Celery app and thin tasks: they take ids and call plain functions in `indexer.realtime` and
`indexer.reindex`. Workers never open the embedded engines (DESIGN.md section 2)."""
