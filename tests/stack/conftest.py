"""Fixtures and helpers for tests that run against the running stack (`scripts/stack.sh faults`).

These tests are never collected by the normal suite (pyproject addopts: --ignore=tests/stack);
they need `scripts/stack.sh up` first and read its environment from var/stack/env. They watch
the stack from outside: HTTP as users do, psycopg for counts, Redis for the broker's queues,
scripts/stack.sh to kill, stop and start services by pid file.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid

import pytest

from tests.stack.client import StackClient
from tests.stack.stackenv import BANK_USER, Stack, StackNotUp

CSV = "text/csv"
FINISHED = ("applied", "rejected", "failed", "duplicate")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


@pytest.fixture(scope="session")
def stack() -> Stack:
    try:
        current = Stack.current()
    except StackNotUp as exc:
        if _in_ci():
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))
    r = StackClient(current.url).get("/healthz")
    assert r.status == 200, f"the stack is not healthy before the fault tests: {r.status} {r.text}"
    return current


@pytest.fixture(scope="session")
def bank_portal(stack: Stack) -> StackClient:
    """bank01 logged in to the bank portal (the upload path until a REST upload exists)."""
    client = StackClient(stack.url)
    r = client.login(BANK_USER, stack.demo_password)
    assert r.status == 302, f"bank01 could not log in: {r.status}"
    return client


def new_prefix(tag: str) -> str:
    return f"{tag}{uuid.uuid4().hex[:6].upper()}"


def upload(portal: StackClient, content: bytes, filename: str) -> str:
    """Upload a registration workbook through the portal form; returns the batch id."""
    form = portal.get("/bank/uploads/new/")
    assert form.status == 200, f"/bank/uploads/new/ answered {form.status}"
    r = portal.post_form("/bank/uploads/new/", {"kind": "registration"}, files={"file": (filename, content, CSV)},
                         csrf_from=form)
    assert r.status == 302, f"upload answered {r.status}: {r.text[:300]}"
    assert "/bank/batches/" in r.location, f"upload redirected to {r.location}"
    return r.location.rstrip("/").split("/")[-1]


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def batch_state(stack: Stack, batch_id: str) -> dict:
    rows = stack.query(
        "SELECT status, rows_done, rows_total, heartbeat_at, error_count FROM banks_intakebatch WHERE id = %s",
        (batch_id,),
    )
    assert rows, f"batch {batch_id} not found"
    status, done, total, heartbeat, errors = rows[0]
    return {"status": status, "rows_done": done, "rows_total": total, "heartbeat_at": heartbeat, "errors": errors}


def loans_with_prefix(stack: Stack, prefix: str) -> int:
    return stack.scalar("SELECT count(*) FROM fund_loan WHERE contract_no LIKE %s", (prefix + "-%",))


def applied_events(stack: Stack, batch_id: str) -> int:
    return stack.scalar(
        "SELECT count(*) FROM registry_domainevent WHERE event_type = 'intake.applied' AND object_id = %s",
        (batch_id,),
    )


def writing_loans(stack: Stack) -> bool:
    """A transaction (of another session) holds a write lock on fund_loan: an apply is under way."""
    return bool(stack.scalar(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE c.relname = 'fund_loan' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"
    ))


def wait_for_apply(stack: Stack, batch_id: str, *, timeout: float = 180) -> float:
    """Block until the batch's apply transaction is writing loans; returns when (monotonic)."""
    def under_way():
        state = batch_state(stack, batch_id)
        assert state["status"] not in FINISHED, f"the batch finished before the fault could be injected: {state}"
        return writing_loans(stack)

    wait_for(under_way, timeout=timeout, interval=0.05, what=f"batch {batch_id} to start writing loans")
    return time.monotonic()


def age_heartbeat(stack: Stack, batch_id: str) -> None:
    """Make a dead batch's heartbeat as old as ``banks.services.STALE_AFTER`` plus a minute.

    Only for a batch whose worker the test has killed: in production the broker redelivers after
    the visibility timeout (4 h), long after STALE_AFTER (15 min), so the redelivered task finds the
    batch stale. The stack's visibility timeout is short for the test's sake; this restores the
    production ordering instead of waiting 15 minutes.
    """
    from banks.services import STALE_AFTER

    seconds = int(STALE_AFTER.total_seconds()) + 60
    stack.query(
        "UPDATE banks_intakebatch SET heartbeat_at = heartbeat_at - make_interval(secs => %s) "
        "WHERE id = %s AND status = 'processing' RETURNING id",
        (seconds, batch_id),
    )


class LoanCountWatcher:
    """Polls the number of loans with a contract prefix, from a thread, for the whole test:
    the set of every value it ever saw proves whether a partial batch was ever visible."""

    def __init__(self, stack: Stack, prefix: str, interval: float = 0.1) -> None:
        self.stack, self.prefix, self.interval = stack, prefix, interval
        self.seen: set[int] = set()
        self.samples = 0
        self.failures = 0  # polls that could not reach the database (it may be down on purpose)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        conn = None
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = self.stack.connect()
                count = conn.execute(
                    "SELECT count(*) FROM fund_loan WHERE contract_no LIKE %s", (self.prefix + "-%",)
                ).fetchone()[0]
                self.seen.add(count)
                self.samples += 1
            except Exception:
                self.failures += 1
                if conn is not None:
                    with contextlib.suppress(Exception):  # the connection is broken anyway
                        conn.close()
                conn = None
                time.sleep(0.5)
            self._stop.wait(self.interval)
        if conn is not None:
            conn.close()

    def __enter__(self) -> LoanCountWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)
        try:  # one last look, after the outcome the test waited for
            self.seen.add(loans_with_prefix(self.stack, self.prefix))
            self.samples += 1
        except Exception:
            self.failures += 1

    def summary(self) -> str:
        return f"counts seen {sorted(self.seen)} in {self.samples} polls ({self.failures} while the database was away)"


def redis_client(stack: Stack):
    import redis

    return redis.Redis.from_url(stack.env["CELERY_BROKER_URL"], socket_timeout=5)


def delivery_time(stack: Stack, batch_id: str) -> float | None:
    """When the broker handed out the message that carries ``batch_id`` and is not acknowledged yet
    (kombu's Redis transport keeps it in the ``unacked`` hash, timed in the ``unacked_index`` set)."""
    r = redis_client(stack)
    for tag, score in r.zrange("unacked_index", 0, -1, withscores=True):
        payload = r.hget("unacked", tag) or b""
        if batch_id.encode() in payload:
            return score
    return None


def celery_call(stack: Stack, task: str, *args: str) -> None:
    import json
    import subprocess
    import sys

    from tests.stack.stackenv import ROOT

    cmd = [sys.executable, "-m", "celery", "-A", "config", "call", task]
    if args:
        cmd += ["--args", json.dumps(list(args))]
    done = subprocess.run(cmd, cwd=ROOT, env=stack.process_env(), capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, f"celery call {task} failed: {done.stdout}{done.stderr}"
