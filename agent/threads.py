"""Where conversations are kept: the LangGraph checkpointer and the thread index beside it.

SQLite in the data folder by default (two connections: the saver's and the index's), PostgreSQL
for several app replicas. The index holds each thread's owner and title; every access to a
thread is checked against its owner by :meth:`agent.runner.Agent.check_access`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from galen.settings import Settings


def open_sqlite(settings: Settings) -> tuple[Any, Any, Any, str]:
    """(saver connection, index connection, SqliteSaver, placeholder) for the data folder's database."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    from galen.files import touch_private

    # Created owner-only before SQLite opens it (chmod afterwards leaves a window).
    path: Path = touch_private(settings.resolved_data_dir() / "threads.sqlite")
    # Two connections: the saver serialises its own use of one; the thread index has the
    # other. Sharing one across both locks let their transactions interleave under load.
    saver_conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
    index_conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
    saver = SqliteSaver(saver_conn)
    # Create the tables and switch to WAL now, single-threaded: done lazily, the first
    # turns of several users race for the exclusive lock it needs ("database is locked").
    _setup_with_retry(saver)
    return saver_conn, index_conn, saver, "?"


def _setup_with_retry(saver: Any, wait_s: float = 30.0) -> None:
    """``saver.setup()``, again while another process holds the lock it needs.

    Switching to WAL needs an exclusive lock, and SQLite answers "database is locked" at once
    (no busy wait) when another process opens the same file at that moment: two ``galen eval
    --workers`` processes starting together did. The tables are created with IF NOT EXISTS, so a
    retry is harmless.
    """
    import random
    import time

    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            saver.setup()
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() >= deadline:
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 1.0)


def open_postgres(settings: Settings) -> tuple[Any, Any, str]:
    """A psycopg connection, LangGraph's Postgres saver on it (tables created), and the placeholder."""
    from galen.errors import BackendUnavailable, ConfigError

    if settings.postgres_url is None:
        raise ConfigError("checkpointer is 'postgres' but no postgres_url is set.", hint="Set GALEN_POSTGRES_URL.")
    try:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
    except ImportError as e:
        raise ConfigError("The Postgres checkpointer needs psycopg and langgraph-checkpoint-postgres.",
                          hint="pip install 'galen[postgres]' (requirements-postgres.txt).") from e
    url = settings.postgres_url.get_secret_value()
    try:
        saver_conn = psycopg.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
        index_conn = psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as e:
        raise BackendUnavailable("The PostgreSQL database for threads cannot be reached.", hint="Check GALEN_POSTGRES_URL.") from e
    saver = PostgresSaver(saver_conn)
    saver.setup()
    return _PgAdapter(index_conn), saver, "%s"


class _PgAdapter:
    """Gives a psycopg connection the execute/commit surface ThreadIndex uses (autocommit)."""

    def __init__(self, conn: Any) -> None:
        self.raw = conn

    def execute(self, sql: str, params: tuple = ()) -> Any:
        cur = self.raw.cursor()
        cur.execute(sql, params)
        return cur

    def commit(self) -> None:
        pass  # autocommit

    def close(self) -> None:
        self.raw.close()


class ThreadIndex:
    """Titles and owners of threads, beside the checkpointer in the same database.

    Works on a SQLite connection or a psycopg connection (``param`` is the placeholder style).
    """

    def __init__(self, conn: Any, lock: threading.Lock, param: str = "?") -> None:
        self.conn, self.lock, self.p = conn, lock, param
        with self.lock:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS galen_threads (thread_id TEXT PRIMARY KEY, owner TEXT, title TEXT, "
                "created DOUBLE PRECISION, updated DOUBLE PRECISION)"
            )
            conn.commit()

    def _q(self, sql: str) -> str:
        return sql.replace("?", self.p)

    def touch(self, thread_id: str, owner: str, title: str) -> None:
        now = time.time()
        with self.lock:
            self.conn.execute(
                self._q("INSERT INTO galen_threads VALUES (?, ?, ?, ?, ?) ON CONFLICT(thread_id) DO UPDATE SET updated=excluded.updated"),
                (thread_id, owner, title[:80], now, now),
            )
            self.conn.commit()

    def owner(self, thread_id: str) -> str | None:
        with self.lock:
            row = self.conn.execute(self._q("SELECT owner FROM galen_threads WHERE thread_id=?"), (thread_id,)).fetchone()
        return row[0] if row else None

    def list(self, owner: str) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.conn.execute(
                self._q("SELECT thread_id, title, created, updated FROM galen_threads WHERE owner=? ORDER BY updated DESC"), (owner,)
            ).fetchall()
        return [{"thread_id": r[0], "title": r[1], "created": r[2], "updated": r[3]} for r in rows]


