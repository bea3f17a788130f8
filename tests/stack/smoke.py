"""Smoke check of the running stack (`scripts/stack.sh smoke`; `make stack` and CI run it).

Through HTTP only, as a user would: health; the public page and its static files (whitenoise,
hashed names); security headers; the admin login form with CSRF as bureau_admin (secure
cookies); a bank's workbook upload (the REST upload when it exists, else the bank portal's form
as bank01), waiting for the Celery worker to import it; then the statistics
(/api/public/stats/, the bank's loan list through the API and the portal), and that the upload's
request id is on its JSON access line and the worker's lines. Each check prints one line
``SMOKE <check> PASS|PENDING|FAIL <detail>``; PENDING marks a part another engineer has not
delivered yet. Exit status 1 when any check FAILs.

    python tests/stack/smoke.py [--rows N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.stack.client import StackClient
from tests.stack.stackenv import ADMIN_USER, BANK_USER, ROOT, Stack
from tests.stack.workbooks import registration_xlsx

STATS_KEYS = (
    "as_of", "applicants", "borrowers", "loans", "principal", "outstanding_principal", "regions_covered",
    "industries_covered", "private_borrowers", "private_share", "avg_rate", "effective_rate", "leverage",
    "pool_balance", "by_region", "by_industry",
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FINISHED = {"applied", "rejected", "failed", "duplicate"}


class Smoke:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.results: list[tuple[str, str, str]] = []

    def record(self, check: str, result: str, detail: str = "") -> None:
        self.results.append((check, result, detail))
        print(f"SMOKE {check} {result} {detail}".rstrip(), flush=True)

    def run(self, check: str, fn, *args) -> object:
        try:
            return fn(*args)
        except AssertionError as exc:
            self.record(check, "FAIL", str(exc))
        except Exception as exc:  # the smoke check reports, it does not crash
            self.record(check, "FAIL", f"{type(exc).__name__}: {exc}")
        return None

    # --- checks ---------------------------------------------------------------------------
    def health(self) -> None:
        c = StackClient(self.stack.url)
        rid = f"smoke-{uuid.uuid4().hex[:12]}"
        r = c.get("/healthz", headers={"X-Request-ID": rid})
        assert r.status == 200, f"/healthz answered {r.status}: {r.text[:200]}"
        body = r.json()
        assert body.get("database") == "ok", body
        assert body.get("broker") == "ok", body
        assert r.headers.get("X-Request-ID") == rid, "the request id is not echoed"
        self.record("health", "PASS", f"{body}")

    def public_page_and_static(self) -> None:
        c = StackClient(self.stack.url)
        r = c.get("/")
        assert r.status == 200, f"/ answered {r.status}"
        assert r.headers.get("X-Frame-Options") == "DENY", "X-Frame-Options missing"
        assert r.headers.get("X-Content-Type-Options") == "nosniff", "X-Content-Type-Options missing"
        links = re.findall(r'(?:href|src)="(/static/[^"]+)"', r.text)
        assert links, "the public page links no static file"
        hashed = [u for u in links if re.search(r"\.[0-9a-f]{12}\.\w+$", u)]
        assert hashed, f"static files are not served under hashed names (manifest storage): {links[:3]}"
        s = c.get(hashed[0], headers={"Accept-Encoding": "gzip"})
        assert s.status == 200, f"{hashed[0]} answered {s.status}"
        cache = s.headers.get("Cache-Control", "")
        assert "immutable" in cache or "max-age=315360000" in cache, f"no long cache on {hashed[0]}: {cache!r}"
        self.record("public_page_and_static", "PASS",
                    f"{len(links)} static links, {hashed[0]} ({s.headers.get('Content-Encoding') or 'identity'}, {cache})")

    def admin_login(self) -> None:
        # a POST that carries no CSRF token is refused
        bare = StackClient(self.stack.url)
        r = bare.request("POST", "/admin/login/", body=b"username=x&password=y", headers={
            "Content-Type": "application/x-www-form-urlencoded", "Referer": bare.origin + "/admin/login/"})
        assert r.status == 403, f"a POST without CSRF token answered {r.status}, not 403"
        c = StackClient(self.stack.url)
        page = c.get("/admin/login/")
        assert page.status == 200, f"/admin/login/ answered {page.status}"
        r = c.post_form("/admin/login/", {"username": ADMIN_USER, "password": self.stack.demo_password,
                                          "next": "/admin/"}, csrf_from=page)
        assert r.status == 302, f"admin login answered {r.status} (wrong $DEMO_PASSWORD?)"
        cookies = " | ".join(h for h in c.set_cookie_headers if h.startswith("sessionid="))
        assert "Secure" in cookies, f"session cookie not Secure: {cookies}"
        assert "HttpOnly" in cookies, f"session cookie not HttpOnly: {cookies}"
        home = c.get("/admin/")
        assert home.status == 200, f"/admin/ answered {home.status}"
        assert "站点管理" in home.text, "/admin/ is not the admin index"
        self.record("admin_login", "PASS", f"{ADMIN_USER}: 302 → /admin/ 200, Secure+HttpOnly session cookie; "
                    "CSRF enforced (403 without token)")

    def upload(self, rows: int) -> dict | None:
        prefix = f"SMK{uuid.uuid4().hex[:6].upper()}"
        content = registration_xlsx(rows, prefix=prefix)
        token = self.stack.bank_token()
        rid = f"smoke-upload-{uuid.uuid4().hex[:12]}"
        api = StackClient(self.stack.url, token=token)
        if api.get("/api/bank/uploads/").status != 404:
            path = "/api/bank/uploads/"
            r = api.post_form(path, {"kind": "registration"}, files={"file": (f"{prefix}.xlsx", content, XLSX)},
                              headers={"X-Request-ID": rid})
            assert r.status in (200, 201, 202), f"POST {path} answered {r.status}: {r.text[:300]}"
            batch_id = str(r.json().get("id"))
            status_path, how, poller = f"/api/bank/batches/{batch_id}/", "REST /api/bank/uploads/ (token)", api
        else:
            path = "/bank/uploads/new/"
            portal = self.portal()
            form = portal.get(path)
            assert form.status == 200, f"{path} answered {form.status}"
            r = portal.post_form(path, {"kind": "registration"}, files={"file": (f"{prefix}.xlsx", content, XLSX)},
                                 csrf_from=form, headers={"X-Request-ID": rid})
            assert r.status == 302, f"upload answered {r.status}: {r.text[:300]}"
            assert "/bank/batches/" in r.location, f"upload redirected to {r.location}"
            batch_id = r.location.rstrip("/").split("/")[-1]
            status_path, how, poller = f"/bank/batches/{batch_id}/progress.json", "the bank portal's form", portal
            self.record("rest_upload", "PENDING", "POST /api/bank/uploads/ answers 404: used the portal form")
        started = time.monotonic()
        state: dict = {}
        while time.monotonic() - started < 180:
            s = poller.get(status_path)
            assert s.status == 200, f"GET {status_path} answered {s.status}"
            state = s.json()
            if state.get("status") in FINISHED:
                break
            time.sleep(0.5)
        took = time.monotonic() - started
        assert state.get("status") == "applied", f"batch {batch_id} ended {state} after {took:.0f}s"
        self.record("upload_import", "PASS",
                    f"{rows} rows via {how}: batch {batch_id} {state.get('status')} in {took:.1f}s "
                    f"(warnings {state.get('warning_count')})")
        return {"prefix": prefix, "token": token, "rows": rows, "rid": rid, "path": path}

    def portal(self) -> StackClient:
        client = StackClient(self.stack.url)
        login = client.login(BANK_USER, self.stack.demo_password)
        assert login.status == 302, f"{BANK_USER} login answered {login.status}"
        return client

    def request_id_logs(self, uploaded: dict) -> None:
        """The upload's request id is on its JSON access line and on the worker's lines for its task."""
        logs = Path(os.environ.get("STACK_DIR", ROOT / "var" / "stack")) / "logs"
        rid = uploaded["rid"]
        access = None
        for line in (logs / "web.log").read_text(encoding="utf-8", errors="replace").splitlines():
            if rid in line and '"fundpool.access"' in line:
                access = json.loads(line)
        assert access, f"no JSON access line with request id {rid} in web.log"
        for field in ("time", "level", "logger", "message", "request_id", "user_id", "path", "status", "duration_ms"):
            assert field in access, f"the access line lacks {field}: {access}"
        assert access["user_id"], f"the access line names no user: {access}"
        worker = (logs / "worker.log").read_text(encoding="utf-8", errors="replace")
        in_worker = sum(1 for line in worker.splitlines() if rid in line)
        self.record("request_id_logs", "PASS",
                    f"{access['method']} {access['path']} {access['status']} {access['duration_ms']}ms "
                    f"user {access['user_id']} request_id {rid}; worker lines with that id: {in_worker}")

    def statistics(self, uploaded: dict | None) -> None:
        c = StackClient(self.stack.url)
        r = c.get("/api/public/stats/")
        if r.status == 200:
            body = r.json()
            missing = [k for k in STATS_KEYS if k not in body]
            assert not missing, f"/api/public/stats/ lacks {missing}"
            self.record("public_stats", "PASS",
                        f"loans {body['loans']}, borrowers {body['borrowers']}, principal {body['principal']}, "
                        f"pool_balance {body['pool_balance']}")
        else:
            self.record("public_stats", "PENDING", f"/api/public/stats/ answers {r.status}")
        if not uploaded:
            return
        api = StackClient(self.stack.url, token=uploaded["token"])
        first = f"{uploaded['prefix']}-000001"
        r = api.get(f"/api/bank/loans/?contract_no={first}")
        if r.status == 200:
            count = r.json().get("count")
            assert count == 1, f"/api/bank/loans/?contract_no={first} counts {count}, not 1"
            self.record("bank_loans_api", "PASS", f"/api/bank/loans/ finds {first}")
        else:
            self.record("bank_loans_api", "PENDING", f"/api/bank/loans/ answers {r.status}")
        page = self.portal().get("/bank/loans/")
        assert page.status == 200, f"/bank/loans/ answered {page.status}"
        assert uploaded["prefix"] in page.text, "the uploaded loans are not in the bank portal's loan list"
        self.record("bank_loans_page", "PASS", f"/bank/loans/ lists the {uploaded['prefix']}-… loans")


def main() -> int:
    parser = argparse.ArgumentParser(description="smoke check of the running stack")
    parser.add_argument("--rows", type=int, default=20, help="rows of the uploaded workbook (default 20)")
    args = parser.parse_args()
    stack = Stack.current()
    print(f"smoke: {stack.url}", flush=True)
    smoke = Smoke(stack)
    started = time.monotonic()
    smoke.run("health", smoke.health)
    smoke.run("public_page_and_static", smoke.public_page_and_static)
    smoke.run("admin_login", smoke.admin_login)
    uploaded = smoke.run("upload_import", smoke.upload, args.rows)
    if uploaded:
        smoke.run("request_id_logs", smoke.request_id_logs, uploaded)
    smoke.run("statistics", smoke.statistics, uploaded)
    failed = [r for r in smoke.results if r[1] == "FAIL"]
    pending = [r for r in smoke.results if r[1] == "PENDING"]
    passed = [r for r in smoke.results if r[1] == "PASS"]
    print(f"smoke: {len(passed)} passed, {len(failed)} failed, {len(pending)} pending "
          f"in {time.monotonic() - started:.1f}s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
