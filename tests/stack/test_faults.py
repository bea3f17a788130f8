"""Reliability under faults, against the running stack (issue 8, part 4): `scripts/stack.sh faults`.

Each test injects one fault into the real processes (by pid file, through scripts/stack.sh)
and prints what it saw as ``FAULT <name> …`` lines:

- Redis stopped: /healthz answers 503 naming the broker, and 200 again once Redis is back;
- the Celery worker killed with SIGKILL (its whole process group) while a 50,000-row import is
  writing: no partial batch is ever visible (the loan count is only ever 0 or 50,000), the broker
  redelivers the unacknowledged task to a restarted worker, and it completes exactly once; a
  duplicate message for the finished batch then changes nothing;
- PostgreSQL stopped with ``pg_ctl -m immediate`` while an import is writing: nothing of it is
  written; once PostgreSQL is back the stuck-batch sweeper re-queues it and it completes (or it
  is marked failed and a re-upload completes); uploading the same file again changes nothing;
- the gunicorn worker serving a claim payment killed with SIGKILL half-way through the payment
  transaction (after its journal was written): nothing of it is kept, the retry with the same
  Idempotency-Key pays exactly once (one journal, one pool payment, the pool balance down by the
  paid amount), its replay gets the same answer and a new request to pay again is refused;
- ``manage.py reconcile`` reports zero mismatches after all of it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.stack.client import StackClient
from tests.stack.conftest import (
    FINISHED,
    LoanCountWatcher,
    age_heartbeat,
    applied_events,
    batch_state,
    celery_call,
    delivery_time,
    loans_with_prefix,
    new_prefix,
    upload,
    wait_for,
    wait_for_apply,
    writing_loans,
)
from tests.stack.stackenv import ROOT, Stack
from tests.stack.workbooks import registration_csv

pytestmark = pytest.mark.stack

ROWS = int(os.environ.get("STACK_FAULT_ROWS", "50000"))


def report(name: str, **facts) -> None:
    print(f"\nFAULT {name} " + " ".join(f"{k}={v}" for k, v in facts.items()), flush=True)


def wait_finished(stack: Stack, batch_id: str, timeout: float) -> dict:
    return wait_for(lambda: (s := batch_state(stack, batch_id))["status"] in FINISHED and s,
                    timeout=timeout, interval=0.5, what=f"batch {batch_id} to finish")


def wait_no_loan_writer(stack: Stack, timeout: float = 60) -> None:
    wait_for(lambda: not writing_loans(stack), timeout=timeout, what="the aborted transaction to end")


# --- broker ------------------------------------------------------------------------------------


def test_health_answers_503_while_the_broker_is_down_and_200_after(stack: Stack):
    client = StackClient(stack.url)
    stack.ctl("stop", "redis")
    try:
        r = wait_for(lambda: (x := client.get("/healthz")).status == 503 and x, timeout=20, what="/healthz 503")
        body = r.json()
        assert body["database"] == "ok"
        assert body["broker"].startswith("error")
    finally:
        stack.ctl("start", "redis")
    ok = wait_for(lambda: (x := client.get("/healthz")).status == 200 and x, timeout=30, what="/healthz 200")
    report("broker_down", during=f"503 {body}", after=f"{ok.status} {ok.json()}")


# --- worker killed mid-import -------------------------------------------------------------------


def test_worker_killed_mid_import_leaves_no_partial_batch_and_the_task_completes_once(stack, bank_portal):
    visibility = int(stack.env["CELERY_VISIBILITY_TIMEOUT"])
    prefix = new_prefix("KW")
    content = registration_csv(ROWS, prefix=prefix)
    with LoanCountWatcher(stack, prefix) as watcher:
        # given an import of ROWS loans that is writing them
        batch_id = upload(bank_portal, content, f"{prefix}.csv")
        uploaded = time.monotonic()
        wait_for_apply(stack, batch_id)
        delivered = delivery_time(stack, batch_id)
        assert delivered is not None, "the task's message is not among the broker's unacknowledged ones"
        # when the worker dies at once (SIGKILL to the worker and its pool processes)
        stack.ctl("kill", "worker")
        killed = time.monotonic()
        wait_no_loan_writer(stack)
        # then nothing of the batch was written, and it is still 处理中
        assert loans_with_prefix(stack, prefix) == 0
        assert batch_state(stack, batch_id)["status"] == "processing"
        age_heartbeat(stack, batch_id)
        # the broker gives the unacknowledged message to a worker once the visibility timeout has run
        # out (a restarted worker looks for such messages 10 s after it starts, then every 100 s)
        time.sleep(max(0.0, delivered + visibility + 1 - time.time()))
        stack.ctl("start", "worker")
        restarted = time.monotonic()
        state = wait_finished(stack, batch_id, timeout=visibility + 240)
        finished = time.monotonic()
    count = loans_with_prefix(stack, prefix)
    events = applied_events(stack, batch_id)
    report("worker_kill", rows=ROWS, batch=batch_id, killed_after=f"{killed - uploaded:.1f}s",
           redelivered_and_finished_after=f"{finished - restarted:.1f}s", status=state["status"], loans=count,
           applied_events=events, watcher=f"'{watcher.summary()}'")
    assert state["status"] == "applied", state
    assert count == ROWS
    assert events == 1, "the batch was applied more than once"
    assert watcher.seen <= {0, ROWS}, f"a partial batch was visible: {watcher.summary()}"

    # a duplicate delivery of the finished batch's task changes nothing (the task is idempotent)
    celery_call(stack, "banks.tasks.process_batch", batch_id)
    time.sleep(3)
    assert batch_state(stack, batch_id)["status"] == "applied"
    assert loans_with_prefix(stack, prefix) == ROWS
    assert applied_events(stack, batch_id) == 1
    report("duplicate_delivery", batch=batch_id, status="applied", loans=ROWS, applied_events=1)


# --- PostgreSQL stopped mid-import ---------------------------------------------------------------


def test_database_stopped_mid_import_is_all_or_nothing_and_recovers(stack, bank_portal):
    prefix = new_prefix("PG")
    content = registration_csv(ROWS, prefix=prefix)
    client = StackClient(stack.url)
    with LoanCountWatcher(stack, prefix) as watcher:
        batch_id = upload(bank_portal, content, f"{prefix}.csv")
        wait_for_apply(stack, batch_id)
        # when PostgreSQL stops at once in the middle of the write
        stack.ctl("stop", "pg")
        try:
            health = client.get("/healthz")
        finally:
            time.sleep(2)
            stack.ctl("start", "pg")
        stack.wait_for_database()
        wait_no_loan_writer(stack)
        # then nothing was written
        assert loans_with_prefix(stack, prefix) == 0
        # the task failed with the database gone: its batch is left 处理中 (it could not even be
        # marked 失败) or is 失败; the sweeper re-queues the first, the bank re-uploads the second
        time.sleep(5)
        after_crash = batch_state(stack, batch_id)["status"]
        final_batch = batch_id
        if after_crash == "processing":
            age_heartbeat(stack, batch_id)
            celery_call(stack, "banks.tasks.requeue_stuck_batches")
            recovery = "sweeper re-queued the batch"
        elif after_crash == "failed":
            final_batch = upload(bank_portal, content, f"{prefix}.csv")
            recovery = "re-upload after 失败"
        else:
            recovery = f"none needed ({after_crash})"
        state = wait_finished(stack, final_batch, timeout=300)
    count = loans_with_prefix(stack, prefix)
    report("postgres_immediate_stop", rows=ROWS, batch=batch_id, health_during=health.status,
           batch_after_crash=after_crash, recovery=f"'{recovery}'", status=state["status"], loans=count,
           watcher=f"'{watcher.summary()}'")
    assert health.status == 503, "/healthz did not report the database outage"
    assert state["status"] == "applied", state
    assert count == ROWS
    assert watcher.seen <= {0, ROWS}, f"a partial batch was visible: {watcher.summary()}"
    # uploading the same file again changes nothing (the bank is told it is a duplicate)
    again = upload(bank_portal, content, f"{prefix}.csv")
    again_state = wait_finished(stack, again, timeout=120)
    assert again_state["status"] == "duplicate", again_state
    assert loans_with_prefix(stack, prefix) == ROWS
    report("reupload_same_file", batch=again, status=again_state["status"], loans=ROWS)


# --- a worker killed during a claim payment ------------------------------------------------------


def _gunicorn_worker_on_port(port: int) -> int | None:
    """The pid of the gunicorn worker whose socket has local port ``port`` (its database connection)."""
    master = int((Path(os.environ.get("STACK_DIR", ROOT / "var" / "stack")) / "pids" / "web.pid").read_text())
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid != master:
                continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
        except (OSError, ValueError, IndexError):
            continue
    return None


def _compensation_paid(stack: Stack) -> str:
    return str(stack.scalar(
        "SELECT COALESCE(SUM(CASE WHEN l.side = 'D' THEN l.amount ELSE -l.amount END), 0) "
        "FROM fund_journalline l JOIN fund_account a ON a.id = l.account_id WHERE a.kind = 'compensation_paid'"
    ))


def _make_approved_claim(stack: Stack) -> dict:
    out = subprocess.run([sys.executable, "tests/stack/claim_setup.py"], cwd=ROOT, env=stack.process_env(),
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, f"could not make an approved claim:\n{out.stdout}\n{out.stderr[-3000:]}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def _totp(otp: dict) -> str:
    from django_otp.oath import TOTP

    generator = TOTP(bytes.fromhex(otp["key"]), otp["step"], otp["t0"], otp["digits"])
    return f"{generator.token():0{otp['digits']}d}"


def _payer_session(stack: Stack, otp: dict) -> StackClient:
    """bureau_admin logged in, with the second factor that payments require (registry.security)."""
    client = StackClient(stack.url, timeout=120)
    assert client.login("bureau_admin", stack.demo_password).status == 302
    form = client.get("/security/otp/verify/")
    assert form.status == 200, f"/security/otp/verify/ answered {form.status}"
    r = client.post_form("/security/otp/verify/", {"token": _totp(otp)}, csrf_from=form)
    assert r.status == 302, f"the TOTP code was refused: {r.status} {r.text[:300]}"
    return client


def test_worker_killed_during_a_claim_payment_pays_exactly_once(stack: Stack):
    claim = _make_approved_claim(stack)
    claim_id, key = claim["claim_id"], f"claim-pay-{claim['claim_id']}"
    paid_before = Decimal(_compensation_paid(stack))
    admin = _payer_session(stack, claim["otp"])
    pay_path = f"/api/claims/{claim_id}/pay/"

    # given a payment that is half-way: our own uncommitted row with the payment's ledger key
    # makes the payer wait right after it wrote the journal, inside its transaction
    blocker = stack.connect()
    blocker.autocommit = False
    programme_id = stack.scalar("SELECT programme_id FROM fund_claim WHERE id = %s", (claim_id,))
    blocker.execute(
        "INSERT INTO fund_poolpayment (programme_id, reference, requested_on, requested_amount, paid_amount, "
        "unpaid_amount, idempotency_key, fingerprint, memo, created_at) "
        "VALUES (%s, 'fault-test blocker', CURRENT_DATE, 1, 0, 1, %s, 'x', '', now())",
        (programme_id, key),
    )
    answer: dict = {}
    payer = threading.Thread(target=lambda: answer.setdefault("r", _post(admin, pay_path, "crash-1")), daemon=True)
    payer.start()
    backend = wait_for(lambda: stack.scalar(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO \"fund_poolpayment\"%%'"
    ), timeout=30, what="the payment to wait inside its transaction")
    journal_written = stack.scalar("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                                   "WHERE c.relname = 'fund_journal' AND l.pid = %s", (backend,))
    port = stack.scalar("SELECT client_port FROM pg_stat_activity WHERE pid = %s", (backend,))
    worker = _gunicorn_worker_on_port(port)
    assert worker, f"no gunicorn worker owns the database connection on port {port}"
    # when the gunicorn worker serving it is killed
    os.kill(worker, signal.SIGKILL)
    time.sleep(0.5)
    blocker.rollback()
    blocker.close()
    wait_for(lambda: not stack.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (backend,)),
             timeout=30, what="the dead payment's database session to end")
    payer.join(30)
    # then nothing of the payment was kept
    assert stack.scalar("SELECT count(*) FROM fund_poolpayment WHERE idempotency_key = %s", (key,)) == 0
    assert stack.scalar("SELECT count(*) FROM fund_journal WHERE idempotency_key = %s", (key,)) == 0
    assert stack.scalar("SELECT status FROM fund_claim WHERE id = %s", (claim_id,)) == "approved"

    # the client retries with the same Idempotency-Key (what a client does after a dropped connection)
    wait_for(lambda: StackClient(stack.url).get("/healthz").status == 200, timeout=30, what="web back")
    retried = _post(admin, pay_path, "crash-1")
    replay = _post(admin, pay_path, "crash-1")  # the same request once more: answered as before
    duplicate = _post(admin, pay_path, "crash-2")  # a new request to pay it again: refused
    payments = stack.scalar("SELECT count(*) FROM fund_poolpayment WHERE idempotency_key = %s", (key,))
    journals = stack.scalar("SELECT count(*) FROM fund_journal WHERE idempotency_key = %s", (key,))
    paid = Decimal(stack.scalar("SELECT paid_amount FROM fund_claim WHERE id = %s", (claim_id,)))
    paid_after = Decimal(_compensation_paid(stack))
    report("claim_payment_worker_kill", claim=claim["number"], amount=claim["amount"], killed_worker=worker,
           journal_written_before_kill=bool(journal_written), same_key_retry=retried.status,
           same_key_replay=replay.status, new_key_duplicate=duplicate.status, pool_payments=payments, journals=journals,
           paid=paid, compensation_paid_delta=paid_after - paid_before)
    # the retry with the same Idempotency-Key is not stuck "in progress" by the dead request
    assert retried.status == 200, retried.text[:500]
    assert replay.status == 200, replay.text[:500]
    assert duplicate.status == 400, duplicate.text[:500]
    assert payments == 1
    assert journals == 1
    assert stack.scalar("SELECT status FROM fund_claim WHERE id = %s", (claim_id,)) == "paid"
    assert paid_after - paid_before == paid
    assert paid == Decimal(claim["amount"])


def _post(client: StackClient, path: str, key: str):
    """POST as the logged-in session (DRF wants the CSRF token in a header)."""
    try:
        return client.request("POST", path, body=b"{}", headers={
            "Content-Type": "application/json", "Idempotency-Key": key, "X-CSRFToken": client.cookies["csrftoken"],
            "Referer": client.origin + path, "Origin": client.origin})
    except OSError as exc:  # the worker died under this request
        return exc


# --- after all of it ------------------------------------------------------------------------------


def test_reconciliation_reports_zero_mismatches_after_the_faults(stack: Stack):
    done = stack.manage("reconcile", check=False)
    summary = done.stdout.strip().splitlines()[-2:] if done.stdout else []
    report("reconcile", exit=done.returncode, summary=f"'{' '.join(summary)}'")
    assert done.returncode == 0, done.stdout + done.stderr
