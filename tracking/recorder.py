"""Group commit for clicks: requests in flight share one COPY and one COMMIT, and each answers after it.

The click path must not acknowledge a click (send the visitor on *with* a click id) before the row is
durable, and one COMMIT per click costs one WAL flush per click. Here every request of a process hands
its row to one writer thread and waits; the writer takes everything queued (up to MAX_BATCH rows),
writes it with one `COPY tracking_click … FROM STDIN` in one transaction, commits, and wakes the
waiting requests. While one batch is being flushed the next one queues up, so the more requests are
in flight, the more rows share a flush: throughput grows with concurrency instead of being capped at
one click per fsync.

Guarantees (tested in tests/tracking/test_recorder.py):
- `record()` returns only after the row's transaction committed; it raises `ClickNotRecorded` (a
  DatabaseError) when the row was not stored. A caller that gets the exception must not hand out the
  click id; then stored clicks = acknowledged clicks exactly.
- A row that waited too long (`WAIT_SECONDS`) while still queued is withdrawn before the writer takes
  it (so it is never stored behind the caller's back); once taken, the caller waits for the outcome.
- One bad row (e.g. a link deleted meanwhile) does not fail its batch-mates: after a failed batch each
  row is retried alone.

Used only on PostgreSQL outside a transaction and outside tests (`group_commit_enabled()`); otherwise
`record_click_rows` inserts synchronously on the caller's connection (SQLite, tests, callers already in
an atomic block) — same semantics, one INSERT.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction

logger = logging.getLogger("tracking")

# Column order of a click row (tracking.services.record_click builds rows in this order).
CLICK_COLUMNS = (
    "network_id", "click_id", "created_at", "link_id", "program_id", "affiliate_id",
    "sub1", "sub2", "sub3", "sub4", "sub5", "destination_url", "referrer", "user_agent", "device", "country",
    "ip_hash", "visitor_hash", "paid_click_params", "flags", "is_unique", "is_attributable",
)
JSON_COLUMNS = frozenset({CLICK_COLUMNS.index("paid_click_params"), CLICK_COLUMNS.index("flags")})
FLAGS, UNIQUE, ATTRIBUTABLE = (CLICK_COLUMNS.index(name) for name in ("flags", "is_unique", "is_attributable"))
CLICK_ID = CLICK_COLUMNS.index("click_id")
MAX_BATCH = 512
# How long a request waits for its row to be *taken* before giving up (the visitor then goes on without
# a click id). Generous: a healthy batch takes milliseconds; this only bounds a stuck database.
WAIT_SECONDS = float(os.environ.get("TRACKING_RECORD_WAIT_SECONDS", "5"))

Row = list[Any]
# A duplicate-screen claim: (cache key, click id, window seconds); None when the program has no window.
Claim = tuple[str, str, int] | None

_QUEUED, _TAKEN, _WITHDRAWN = 0, 1, 2


class ClickNotRecorded(DatabaseError):
    """The click row was not committed; the caller must not hand out its click id."""


class _Pending:
    __slots__ = ("claim", "done", "error", "original", "row", "state")

    def __init__(self, row: Row, claim: Claim) -> None:
        self.row = row
        self.claim = claim
        self.original: str | None = None
        self.state = _QUEUED
        self.error: BaseException | None = None
        self.done = threading.Event()


def copy_rows(rows: Sequence[Row], *, using: str = "default") -> None:
    """Store click rows with one COPY in one transaction on this thread's connection (PostgreSQL)."""
    connection = connections[using]
    statement = f"COPY tracking_click ({', '.join(CLICK_COLUMNS)}) FROM STDIN"
    with transaction.atomic(using=using), connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([json.dumps(value) if i in JSON_COLUMNS else value for i, value in enumerate(row)])


def insert_rows(rows: Sequence[Row], *, using: str = "default") -> None:
    """Store click rows through the ORM in one statement (any database; the synchronous path)."""
    from tracking.models import Click

    Click.objects.using(using).bulk_create([Click(**dict(zip(CLICK_COLUMNS, row, strict=True))) for row in rows])


class GroupCommitRecorder:
    """One writer thread per process that commits the click rows of all requests in flight together."""

    def __init__(self, *, write: Callable[[Sequence[Row]], None] | None = None,
                 screen: Callable[[list[tuple[str, str, int]]], list[str | None]] | None = None,
                 max_batch: int = MAX_BATCH, wait_seconds: float = WAIT_SECONDS, using: str = "default") -> None:
        self._write = write or (lambda rows: copy_rows(rows, using=using))
        self._screen = screen or _claim_first_clicks
        self._using = using
        self.max_batch = max_batch
        self.wait_seconds = wait_seconds
        self._queue: deque[_Pending] = deque()
        self._ready = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.batches = 0  # figures for the benchmark and the tests
        self.rows = 0

    def _ensure_thread(self) -> None:
        # After a fork (gunicorn workers) the parent's thread does not exist in the child: start one per process.
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._ready:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._queue.clear()
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="click-group-commit", daemon=True)
                self._thread.start()

    def record(self, row: Row, claim: Claim = None) -> str | None:
        """Hand one click row to the writer, return once committed: the first click's id for a duplicate, else None.

        ClickNotRecorded when the row was not stored.
        """
        self._ensure_thread()
        pending = _Pending(row, claim)
        with self._ready:
            self._queue.append(pending)
            self._ready.notify()
        if not pending.done.wait(self.wait_seconds):
            with self._ready:
                if pending.state == _QUEUED:
                    # Not taken yet: withdraw it so it can never be stored without the visitor having its id.
                    pending.state = _WITHDRAWN
                    raise ClickNotRecorded(f"the click writer did not take the row within {self.wait_seconds} s")
            pending.done.wait()  # taken: its batch is being committed now; its outcome decides
        if pending.error is not None:
            raise ClickNotRecorded(str(pending.error)) from pending.error
        return pending.original

    def _take(self) -> list[_Pending]:
        with self._ready:
            while not self._queue:
                self._ready.wait()
            batch: list[_Pending] = []
            while self._queue and len(batch) < self.max_batch:
                pending = self._queue.popleft()
                if pending.state == _QUEUED:
                    pending.state = _TAKEN
                    batch.append(pending)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch:
                self._flush(batch)

    def _claim(self, batch: list[_Pending]) -> None:
        """The duplicate screen for the whole batch in one call (one Redis round trip)."""
        claimed = [pending for pending in batch if pending.claim is not None]
        if not claimed:
            return
        try:
            originals = self._screen([pending.claim for pending in claimed])  # type: ignore[misc]
        except Exception:  # the screen degrades to "unique"; it never costs a click
            logger.exception("duplicate screen failed; the batch counts as unique clicks")
            return
        for pending, original in zip(claimed, originals, strict=True):
            if original and original != pending.row[CLICK_ID]:
                apply_duplicate(pending.row)
                pending.original = original

    def _release(self, pending: _Pending) -> None:
        if pending.claim is not None and pending.original is None:
            _release_first_click(key=pending.claim[0], click_id=pending.claim[1])

    def _flush(self, batch: list[_Pending]) -> None:
        self._claim(batch)
        try:
            self._write([pending.row for pending in batch])
            self.batches += 1
            self.rows += len(batch)
        except Exception as error:
            self._reset_connection()
            if len(batch) == 1:
                batch[0].error = error
                self._release(batch[0])
            else:
                # One bad row must not cost its batch-mates their click ids: retry each alone.
                logger.warning("click batch of %d failed (%s); retrying row by row", len(batch), error)
                for pending in batch:
                    try:
                        self._write([pending.row])
                        self.rows += 1
                    except Exception as row_error:
                        self._reset_connection()
                        pending.error = row_error
                        self._release(pending)
        finally:
            for pending in batch:
                pending.done.set()

    def _reset_connection(self) -> None:
        # A broken connection is replaced on the next batch rather than reused.
        try:
            connections[self._using].close()
        except Exception:
            logger.debug("closing the click writer's connection failed", exc_info=True)


_recorder: GroupCommitRecorder | None = None
_recorder_lock = threading.Lock()


def get_recorder() -> GroupCommitRecorder:
    """The process's group-commit recorder (created on first use)."""
    global _recorder
    if _recorder is None:
        with _recorder_lock:
            if _recorder is None:
                _recorder = GroupCommitRecorder()
    return _recorder


def group_commit_enabled(using: str = "default") -> bool:
    """Group commit on PostgreSQL outside tests, unless TRACKING_GROUP_COMMIT=0 or the caller is in a transaction."""
    if getattr(settings, "TESTING", False) and not getattr(settings, "TRACKING_GROUP_COMMIT_IN_TESTS", False):
        return False
    if os.environ.get("TRACKING_GROUP_COMMIT", "1") == "0":
        return False
    connection = connections[using]
    # Inside the caller's atomic block the row must belong to the caller's transaction.
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def apply_duplicate(row: Row) -> None:
    """Mark a click row as a duplicate: gross, neither unique nor attributable."""
    row[FLAGS] = [*row[FLAGS], "duplicate"]
    row[UNIQUE] = row[ATTRIBUTABLE] = False


def _claim_first_clicks(claims: list[tuple[str, str, int]]) -> list[str | None]:
    from tracking import clicks  # the screen lives with the other click helpers

    return clicks.claim_first_clicks(claims)


def _release_first_click(*, key: str, click_id: str) -> None:
    from tracking import clicks

    clicks.release_first_click(key=key, click_id=click_id)


def record_click_row(row: Row, claim: Claim = None) -> str | None:
    """Screen (duplicate) and store one click row durably before returning; the first click's id for a duplicate.

    Grouped with the other requests in flight when possible (PostgreSQL), else one INSERT on the
    caller's connection. Raises ClickNotRecorded/DatabaseError when the row was not stored.
    """
    if group_commit_enabled():
        return get_recorder().record(row, claim)
    original = None
    if claim is not None:
        original = _claim_first_clicks([claim])[0]
        if original and original != row[CLICK_ID]:
            apply_duplicate(row)
        else:
            original = None
    try:
        insert_rows([row])
    except DatabaseError:
        if claim is not None and original is None:
            _release_first_click(key=claim[0], click_id=claim[1])
        raise
    return original
