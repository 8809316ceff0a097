"""The gateway's outbox (G7): events survive a broker, hub or gateway outage and leave in order.

SQLite with ``synchronous=FULL`` (every append is fsync'ed before it returns) and a rowid order.
An event leaves the outbox only once the hub's receipt says it is committed to the hub's database
(not on the broker's PUBACK: a broker that lost the hub's session would swallow it). A crash before
the receipt resends it with the same id, which the hub de-duplicates and confirms again:
at-least-once on the wire, exactly-once to the application.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from vakt.protocol.messages import Event, ProtocolError, decode, encode

log = logging.getLogger(__name__)

MAX_EVENTS = 100_000  # (chosen) about 50 MB of events; beyond it the oldest are dropped, loudly


class Outbox:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self._db = self._open(path)
        except sqlite3.DatabaseError as exc:
            self._move_aside(path, exc)
            self._db = self._open(path)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                " id TEXT NOT NULL UNIQUE, payload BLOB NOT NULL)"
            )
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {verdict}")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    @staticmethod
    def _move_aside(path: Path, exc: Exception) -> None:
        """A corrupt outbox must not stop the gateway: keep it for inspection, start an empty one."""
        stamp = time.strftime("%Y%m%dT%H%M%S")
        kept = path.with_name(f"{path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{path}{suffix}")
            if part.exists():
                os.replace(part, Path(f"{kept}{suffix}"))
        log.error(
            "the outbox %s is corrupt (%s): moved aside to %s; events in it were not sent, "
            "the gateway goes on with an empty outbox",
            path,
            exc,
            kept,
        )

    def append(self, event: Event) -> None:
        """Store an event durably; the same id twice is stored once."""
        with self._db:  # one transaction, committed (fsync'ed) on leaving
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO outbox (id, payload) VALUES (?, ?)", (event.id, encode(event))
            )
            if cursor.lastrowid and cursor.lastrowid % 1000 == 0 and (excess := len(self) - MAX_EVENTS) > 0:
                log.error("outbox full: dropping the %d oldest undelivered events", excess)
                self._db.execute(
                    "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)", (excess,)
                )

    def peek(self, limit: int = 100) -> list[tuple[int, Event]]:
        """The oldest undelivered events, in order; a corrupt row is logged and discarded."""
        rows = self._db.execute("SELECT seq, payload FROM outbox ORDER BY seq LIMIT ?", (limit,)).fetchall()
        events: list[tuple[int, Event]] = []
        for seq, payload in rows:
            try:
                events.append((seq, decode(Event, payload)))
            except ProtocolError as exc:
                log.error("outbox row %d unreadable, discarded: %s", seq, exc)
                self.remove(seq)
        return events

    def remove(self, seq: int) -> None:
        self.remove_many([seq])

    def remove_many(self, seqs: list[int]) -> None:
        """Forget delivered events, in one transaction (one fsync)."""
        if seqs:
            with self._db:
                self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(seq,) for seq in seqs])

    def confirm(self, ids: Iterable[str]) -> int:
        """Forget the events the hub confirmed (by event id), in one transaction; returns how many."""
        ids = list(ids)
        if not ids:
            return 0
        with self._db:
            cursor = self._db.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])
        return cursor.rowcount

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        self._db.close()
