"""The two dialect-specific statements we need (insert-or-ignore, insert-or-update), both dialects."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: Connection, table: Table):
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def insert_ignore(conn: Connection, table: Table, keys: Sequence[str]):
    return _insert(conn, table).on_conflict_do_nothing(index_elements=list(keys))


def insert_or_update(conn: Connection, table: Table, keys: Sequence[str], update: Sequence[str]):
    stmt = _insert(conn, table)
    return stmt.on_conflict_do_update(index_elements=list(keys),
                                      set_={name: stmt.excluded[name] for name in update})
