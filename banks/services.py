"""Writes of the banks app: intake of loan registrations and monthly status reports.

- :func:`intake_upload` — store an uploaded workbook and its batch, refuse hostile files at once,
  recognise a file already sent, queue the processing; returns immediately.
- :func:`intake_process` — (Celery task body) read, validate every row, then apply a clean
  batch in one transaction or store it as rejected; idempotent and safe with two workers.
- :func:`intake_submit_records` — the REST API's JSON records: same pipeline, synchronous.

See docs/intake.md.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fund import selectors as fund_selectors
from fund import services as fund_services
from fund.models import CooperationState, Loan, Partnership, Programme
from registry.audit import record_event
from registry.errors import BusinessError
from registry.models import Bank, User
from subsidies import services as subsidy_services

from .intake import fields as F
from .intake import reader, rows, safety
from .intake.context import IntakeContext, chunks
from .intake.issues import ERROR, INFO, WARNING, IntakeRefused, IssueLog
from .intake.registration import RegistrationValidator, apply_registration, registration_snapshot
from .intake.status import OpenLoans, StatusValidator, apply_status, status_snapshot
from .models import BatchKind, BatchSource, BatchStatus, IntakeBatch

logger = logging.getLogger(__name__)

API_MAX_RECORDS = 1000
MAX_STORED_ISSUES = 100_000
STALE_AFTER = timedelta(minutes=15)  # a "processing" batch without progress for this long is taken over
_READ_CHUNK = 1024 * 1024


# --------------------------------------------------------------------------- helpers


def intake_dir(bank: Bank) -> Path:
    """MEDIA_ROOT/intake/<bank code>/ — private: nothing under MEDIA_ROOT is served by URL."""
    safe = "".join(ch for ch in bank.code if ch.isalnum() or ch in "-_") or str(bank.pk)
    path = Path(settings.MEDIA_ROOT) / "intake" / safe
    path.mkdir(parents=True, exist_ok=True)
    return path


def batch_path(batch: IntakeBatch) -> Path:
    return Path(settings.MEDIA_ROOT) / batch.stored_path


def resolve_programme(*, bank: Bank, programme: Programme | None) -> Programme:
    """The programme a batch is for: the given one, or the bank's only partnership."""
    if programme is not None:
        return programme
    partnerships = list(Partnership.objects.filter(bank=bank).exclude(state=CooperationState.ENDED)
                        .select_related("programme")[:2])
    if len(partnerships) != 1:
        raise BusinessError("请指定项目（programme）：该银行参与的项目不止一个或没有合作项目", code="programme_required")
    return partnerships[0].programme


def _check_actor(*, actor: User | None, bank: Bank, override_reason: str) -> None:
    if actor is not None and actor.bank_id and actor.bank_id != bank.pk:
        raise BusinessError("只能为本行报送数据", code="wrong_bank")
    if actor is not None and actor.guarantor_id:
        raise BusinessError("担保机构用户不能报送银行数据", code="wrong_bank")
    if override_reason.strip() and not (
        actor is not None and actor.is_bureau and actor.has_perm("banks.add_intakebatch")
    ):
        raise BusinessError("逾期备案特批理由只能由财政经办人员填写（R15）", code="override_not_allowed", rule="R15")


def _check_kind(kind: str) -> None:
    if kind not in BatchKind.values:
        raise BusinessError(f"未知的报送类型：{kind}（应为 registration 或 status）", code="bad_kind")


def _store_upload(fileobj: BinaryIO, directory: Path) -> tuple[Path, str, int]:
    """Copy the upload to a temporary file, hashing as it goes; stops reading past the size cap."""
    limit = safety.max_upload_bytes()
    digest = hashlib.sha256()
    temp = directory / f".incoming-{uuid.uuid4().hex}"
    size = 0
    with temp.open("wb") as out:
        while chunk := fileobj.read(_READ_CHUNK):
            size += len(chunk)
            if size > limit:
                break
            digest.update(chunk)
            out.write(chunk)
    return temp, digest.hexdigest(), size


# --------------------------------------------------------------------------- upload


def intake_upload(
    *, bank: Bank, kind: str, fileobj: BinaryIO, filename: str, uploaded_by: User | None,
    programme: Programme | None = None, is_correction: bool = False, override_reason: str = "",
) -> IntakeBatch:
    """Store a workbook upload and queue it; returns the batch at once (status 已接收).

    A file refused by the safety checks gives a batch 已拒绝 with the reason and nothing stored;
    the same bytes as an earlier batch of this bank that is queued, processing or applied give a
    batch 重复上传 pointing at it, and change nothing.
    """
    _check_kind(kind)
    _check_actor(actor=uploaded_by, bank=bank, override_reason=override_reason)
    programme = resolve_programme(bank=bank, programme=programme)
    directory = intake_dir(bank)
    temp, sha256, size = _store_upload(fileobj, directory)
    batch = IntakeBatch(
        bank=bank, programme=programme, kind=kind, source=BatchSource.WORKBOOK, filename=Path(filename).name[:255],
        size_bytes=size, sha256=sha256, uploaded_by=uploaded_by, is_correction=is_correction,
        override_reason=override_reason.strip()[:300],
    )
    try:
        safety.check_size(size)
        batch.file_format = safety.preflight(temp, filename=filename)
    except IntakeRefused as exc:
        temp.unlink(missing_ok=True)
        return _refuse_upload(batch, exc)
    first = (IntakeBatch.objects.filter(bank=bank, kind=kind, sha256=sha256)
             .filter(status__in=[BatchStatus.QUEUED, BatchStatus.PROCESSING, BatchStatus.APPLIED])
             .order_by("uploaded_at").first())
    if first is not None:
        temp.unlink(missing_ok=True)
        return _duplicate_upload(batch, first)
    final = directory / f"{batch.id}.{batch.file_format}"
    temp.rename(final)
    batch.stored_path = str(final.relative_to(settings.MEDIA_ROOT))
    with transaction.atomic():
        batch.save()
        record_event(actor=uploaded_by, event_type="intake.uploaded", obj=batch, kind=kind, filename=batch.filename,
                     sha256=sha256, size=size, is_correction=is_correction)
        transaction.on_commit(lambda: _dispatch(batch.pk))
    return batch


def _dispatch(batch_id: Any) -> None:
    from .tasks import process_batch

    process_batch.delay(str(batch_id))


def _refuse_upload(batch: IntakeBatch, exc: IntakeRefused) -> IntakeBatch:
    log = IssueLog(F.SHEET_NAMES[batch.kind])
    log.error(exc.message, rule=exc.rule)
    now = timezone.now()
    batch.status, batch.finished_at = BatchStatus.REJECTED, now
    _set_issues(batch, log.items, log.counts)
    batch.summary = {"refused": exc.code}
    with transaction.atomic():
        batch.save()
        record_event(actor=batch.uploaded_by, event_type="intake.refused", obj=batch, kind=batch.kind,
                     filename=batch.filename, reason=exc.code, message=exc.message)
    return batch


def _duplicate_upload(batch: IntakeBatch, first: IntakeBatch) -> IntakeBatch:
    log = IssueLog(F.SHEET_NAMES[batch.kind])
    log.info(f"与 {timezone.localtime(first.uploaded_at):%Y-%m-%d %H:%M} 上传的文件完全相同（批次 {first.pk}），"
             "本次未作任何更改")
    batch.status, batch.duplicate_of, batch.finished_at = BatchStatus.DUPLICATE, first, timezone.now()
    batch.file_format = batch.file_format or ""
    _set_issues(batch, log.items, log.counts)
    with transaction.atomic():
        batch.save()
        record_event(actor=batch.uploaded_by, event_type="intake.duplicate", obj=batch, kind=batch.kind,
                     filename=batch.filename, duplicate_of=str(first.pk))
    return batch


# --------------------------------------------------------------------------- API records


def intake_submit_records(
    *, bank: Bank, kind: str, records: Any, actor: User | None, programme: Programme | None = None,
    is_correction: bool = False, override_reason: str = "",
) -> IntakeBatch:
    """JSON records from the REST API (≤ 1,000): the same pipeline, run now; returns the finished batch."""
    _check_kind(kind)
    _check_actor(actor=actor, bank=bank, override_reason=override_reason)
    if not isinstance(records, list) or not records:
        raise BusinessError("records 应为非空数组", code="bad_records")
    if len(records) > API_MAX_RECORDS:
        raise BusinessError(f"一次最多提交 {API_MAX_RECORDS} 条记录，本次 {len(records)} 条；更多请上传工作簿",
                            code="too_many_records")
    programme = resolve_programme(bank=bank, programme=programme)
    data = json.dumps(records, ensure_ascii=False, default=str).encode("utf-8")
    batch = IntakeBatch(
        bank=bank, programme=programme, kind=kind, source=BatchSource.API, filename="", file_format="json",
        size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), uploaded_by=actor,
        is_correction=is_correction, override_reason=override_reason.strip()[:300], rows_total=len(records),
    )
    path = intake_dir(bank) / f"{batch.id}.json"
    path.write_bytes(data)
    batch.stored_path = str(path.relative_to(settings.MEDIA_ROOT))
    with transaction.atomic():
        batch.save()
        record_event(actor=actor, event_type="intake.uploaded", obj=batch, kind=kind, source="api",
                     records=len(records), is_correction=is_correction)
    return intake_process(batch_id=batch.pk)


# --------------------------------------------------------------------------- processing


def _claim(batch_id: Any) -> IntakeBatch | None:
    """Compare-and-set 已接收 → 处理中 (or take over a stale 处理中); None if someone else has it."""
    now = timezone.now()
    claimable = Q(status=BatchStatus.QUEUED) | Q(status=BatchStatus.PROCESSING, heartbeat_at__lt=now - STALE_AFTER)
    claimed = IntakeBatch.objects.filter(claimable, pk=batch_id).update(
        status=BatchStatus.PROCESSING, started_at=now, heartbeat_at=now, rows_done=0
    )
    if not claimed:
        return None
    return IntakeBatch.objects.select_related("bank", "programme", "uploaded_by").get(pk=batch_id)


def intake_process(*, batch_id: Any) -> IntakeBatch:
    """Process a queued batch once.  A batch already finished, or being processed by another
    worker, is returned unchanged."""
    batch = _claim(batch_id)
    if batch is None:
        return IntakeBatch.objects.get(pk=batch_id)
    with _collector_paused():
        try:
            outcome = _run(batch)
        except Exception as exc:
            logger.exception("intake batch %s failed", batch.pk)
            return _fail(batch, exc)
        _after_commit(batch, outcome)
    batch.refresh_from_db()
    return batch


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while one batch is processed.

    A 100,000-row batch allocates millions of container objects (row lists, tuples, row and loan
    records) that live until the batch is done, and each of the collector's passes walks all of
    them again: ≈ 0.5–0.9 s of a status batch, to find nothing — the batch's objects are freed by
    reference counting.  The previous state is restored afterwards (cycles made meanwhile are
    collected then); web and Celery workers run one batch per process at a time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _progress(batch: IntakeBatch):
    def report(done: int) -> None:
        # its own short UPDATE, outside any transaction of ours: visible while validation runs
        IntakeBatch.objects.filter(pk=batch.pk, started_at=batch.started_at).update(
            rows_done=min(done, batch.rows_total) if batch.rows_total else 0, heartbeat_at=timezone.now()
        )

    return report


def _open(batch: IntakeBatch, log: IssueLog, row_cap: int, *, meanwhile: reader.Meanwhile | None = None) -> reader.Table:
    path = batch_path(batch)
    if batch.source == BatchSource.API:
        records = json.loads(path.read_text(encoding="utf-8"))
        return reader.records_table(records, batch.kind, log, row_cap=max(row_cap, API_MAX_RECORDS))
    return reader.open_file(path, batch.file_format, batch.kind, log, row_cap=row_cap, meanwhile=meanwhile)


def _batch_refusal(ctx: IntakeContext, kind: str) -> str:
    """R17 (and partnership) reasons that refuse a whole batch; "" when none."""
    problem = ctx.partnership_problem()
    if problem or kind != BatchKind.REGISTRATION:
        return problem
    ok, reason = fund_selectors.registration_allowed(programme=ctx.programme, bank=ctx.bank, on=ctx.today)
    return "" if ok else f"暂停新增备案：{reason}（R17）"


def _lap(batch: IntakeBatch, phase: str, started: float) -> float:
    """Record a phase's duration on the batch (kept in its summary under "seconds")."""
    now = time.perf_counter()
    timings = batch.__dict__.setdefault("_timings", {})
    timings[phase] = round(now - started, 3)
    return now


def _run(batch: IntakeBatch) -> dict[str, Any]:
    started = time.perf_counter()
    today = timezone.localdate(batch.uploaded_at)
    ctx = IntakeContext(programme=batch.programme, bank=batch.bank, today=today)
    log = IssueLog(F.SHEET_NAMES[batch.kind])
    refusal = _batch_refusal(ctx, batch.kind)
    if refusal:
        log.error(refusal, rule="R17" if "R17" in refusal else "")
        return _reject(batch, log, rows_seen=0)
    params = ctx.params_on(today)
    row_cap = params.intake_row_cap if params else 100_000
    open_loans = OpenLoans(ctx) if batch.kind == BatchKind.STATUS else None  # read while the sheet is parsed
    try:
        table = _open(batch, log, row_cap, meanwhile=open_loans)
    except IntakeRefused as exc:
        log.error(exc.message, rule=exc.rule)
        return _reject(batch, log, rows_seen=0)
    started = _lap(batch, "open", started)
    try:
        if log.has_errors and batch.source == BatchSource.WORKBOOK:  # header problems: rows unreadable
            return _reject(batch, log, rows_seen=0)
        batch.rows_total = table.row_count
        IntakeBatch.objects.filter(pk=batch.pk).update(rows_total=table.row_count)
        validator = _validator(batch, ctx, log, table.labels, open_loans)
        seen = 0
        for rowno, values, clean in rows.parse_table(table, log, progress=_progress(batch)):
            validator.check_row(rowno, values, clean)
            seen += 1
    except IntakeRefused as exc:
        log.error(exc.message, rule=exc.rule)
        return _reject(batch, log, rows_seen=0)
    finally:
        table.close()
    if seen == 0:
        log.error("没有数据行：表头下方没有任何数据")
    started = _lap(batch, "read_and_check_rows", started)
    cross = IssueLog(log.sheet)
    validator.cross_check(cross)
    _lap(batch, "cross_check", started)
    if log.has_errors or cross.has_errors:
        return _reject(batch, log, cross, rows_seen=seen)
    return _apply(batch, ctx, validator, log, cross, rows_seen=seen)


def _validator(batch: IntakeBatch, ctx: IntakeContext, log: IssueLog, labels: list[str],
               open_loans: OpenLoans | None = None):
    if batch.kind == BatchKind.REGISTRATION:
        return RegistrationValidator(ctx, log, labels=labels, override_reason=batch.override_reason)
    return StatusValidator(ctx, log, labels=labels, is_correction=batch.is_correction, open_loans=open_loans)


def _merged(*logs: IssueLog) -> tuple[list[dict[str, Any]], dict[str, int]]:
    items = sorted((i for log in logs for i in log.items), key=lambda i: -1 if i["row"] is None else i["row"])
    counts = {level: sum(log.counts[level] for log in logs) for level in (ERROR, WARNING, INFO)}
    return items, counts


def _set_issues(batch: IntakeBatch, items: list[dict[str, Any]], counts: dict[str, int]) -> None:
    if len(items) > MAX_STORED_ISSUES:
        items = items[:MAX_STORED_ISSUES]
    batch.issues = items
    batch.error_count, batch.warning_count, batch.info_count = counts[ERROR], counts[WARNING], counts[INFO]


def _finish_fields() -> list[str]:
    return ["status", "issues", "error_count", "warning_count", "info_count", "rows_total", "rows_done",
            "finished_at", "heartbeat_at", "summary", "applied_at"]


def _reject(batch: IntakeBatch, *logs: IssueLog, rows_seen: int) -> dict[str, Any]:
    items, counts = _merged(*logs)
    with transaction.atomic():
        locked = IntakeBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != BatchStatus.PROCESSING or locked.started_at != batch.started_at:
            return {"lost": True}
        _set_issues(batch, items, counts)
        batch.status, batch.finished_at = BatchStatus.REJECTED, timezone.now()
        batch.rows_total = batch.rows_done = rows_seen
        batch.summary = {"rows": rows_seen, "errors": counts[ERROR], "seconds": batch.__dict__.get("_timings", {})}
        batch.save(update_fields=_finish_fields())
        record_event(actor=batch.uploaded_by, event_type="intake.rejected", obj=batch, kind=batch.kind,
                     rows=rows_seen, errors=counts[ERROR], warnings=counts[WARNING])
    return {"applied": False}


def _lock_scope(batch: IntakeBatch) -> None:
    """Serialise applies that read what they write: registrations per programme (R11 across
    banks), status reports per partnership."""
    if batch.kind == BatchKind.REGISTRATION:
        list(Programme.objects.select_for_update().filter(pk=batch.programme_id))
    else:
        list(Partnership.objects.select_for_update().filter(programme_id=batch.programme_id, bank_id=batch.bank_id))


def _apply(batch: IntakeBatch, ctx: IntakeContext, validator, log: IssueLog, cross: IssueLog, *,
           rows_seen: int) -> dict[str, Any]:
    started = time.perf_counter()
    with transaction.atomic(durable=True):
        locked = IntakeBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != BatchStatus.PROCESSING or locked.started_at != batch.started_at:
            return {"lost": True}
        _lock_scope(batch)
        snapshot = registration_snapshot(ctx) if batch.kind == BatchKind.REGISTRATION else status_snapshot(ctx)
        if snapshot != validator.plan.snapshot:  # something was written since the cross check: redo it
            cross = IssueLog(log.sheet)
            validator.cross_check(cross)
        refusal = _batch_refusal(ctx, batch.kind)
        if refusal:
            cross.error(refusal, rule="R17")
        if cross.has_errors:
            transaction.set_rollback(True)
            return {"retry_reject": (log, cross)}
        if batch.kind == BatchKind.REGISTRATION:
            actor_id = batch.uploaded_by_id
            summary = apply_registration(validator.plan, ctx=ctx, batch_id=str(batch.pk), actor_id=actor_id)
        else:
            summary = apply_status(validator.plan, ctx=ctx, batch_id=batch.pk,
                                   timings=batch.__dict__.setdefault("_timings", {}))
        items, counts = _merged(log, cross)
        _set_issues(batch, items, counts)
        now = timezone.now()
        batch.status, batch.applied_at, batch.finished_at = BatchStatus.APPLIED, now, now
        batch.rows_total = batch.rows_done = rows_seen
        _lap(batch, "apply", started)
        batch.summary = {k: v for k, v in summary.items() if k != "settled_loan_ids"}
        batch.summary["seconds"] = batch.__dict__.get("_timings", {})
        batch.save(update_fields=_finish_fields())
        record_event(actor=batch.uploaded_by, event_type="intake.applied", obj=batch, kind=batch.kind,
                     rows=rows_seen, **batch.summary)
        started = time.perf_counter()
    commit = round(time.perf_counter() - started, 3)  # deferred foreign-key checks run here
    IntakeBatch.objects.filter(pk=batch.pk).update(summary={**batch.summary, "seconds": {
        **batch.summary["seconds"], "commit": commit}})
    return {"applied": True, "summary": summary}


def _fail(batch: IntakeBatch, exc: Exception) -> IntakeBatch:
    log = IssueLog(F.SHEET_NAMES[batch.kind])
    log.error(f"系统处理出错（{type(exc).__name__}），本批次未导入任何数据，请稍后重试或联系管理员")
    with transaction.atomic():
        IntakeBatch.objects.filter(pk=batch.pk, status=BatchStatus.PROCESSING).update(
            status=BatchStatus.FAILED, finished_at=timezone.now(), issues=log.items, error_count=1,
        )
        record_event(actor=batch.uploaded_by, event_type="intake.failed", obj=batch, kind=batch.kind,
                     error=type(exc).__name__)
    batch.refresh_from_db()
    return batch


def _after_commit(batch: IntakeBatch, outcome: dict[str, Any]) -> None:
    if "retry_reject" in outcome:
        _reject(batch, *outcome["retry_reject"], rows_seen=batch.rows_total)
        return
    if not outcome.get("applied") or batch.kind != BatchKind.STATUS:
        return
    started = time.perf_counter()
    try:
        fund_services.suspension_evaluate(programme=batch.programme, on=timezone.localdate(), actor=None)  # R31–R33
    except Exception:
        logger.exception("suspension evaluation after intake batch %s failed", batch.pk)
    evaluated = time.perf_counter()
    settled = outcome["summary"].get("settled_loan_ids") or []
    if settled:
        loans = [loan for chunk in chunks(settled) for loan in Loan.objects.filter(pk__any_of=chunk)]
        try:
            _after_settlements(loans)
        except Exception:  # the batch stays applied; the subsidy service can be re-run for these loans
            logger.exception("subsidy computation after intake batch %s failed", batch.pk)
    _record_after_commit(batch, suspension=evaluated - started, settlements=time.perf_counter() - evaluated)


def _record_after_commit(batch: IntakeBatch, **seconds: float) -> None:
    """The post-commit steps' durations, added to the batch's summary (operators see where time goes)."""
    summary = IntakeBatch.objects.values_list("summary", flat=True).get(pk=batch.pk)
    summary.setdefault("seconds", {}).update({k: round(v, 3) for k, v in seconds.items()})
    IntakeBatch.objects.filter(pk=batch.pk).update(summary=summary)


def _after_settlements(loans: list[Loan]) -> None:
    """HOOK — subsidies (R35, R36, R38): called, after the status batch has committed, with every
    loan that the batch settled (or whose settlement figures it corrected).

    Each loan then carries what the subsidy computation needs: ``settled_on``,
    ``interest_paid_total``, ``guarantee_fee_paid_total``, ``annual_rate``, ``mode``, and
    ``ever_overdue`` (never overdue = ``not loan.ever_overdue``).

    The subsidy service is called directly (a service call, not a signal); it is idempotent, so a
    loan that already has its subsidy is left alone.
    """
    subsidy_services.subsidy_compute_for_settlements(loans=loans, actor=None)

