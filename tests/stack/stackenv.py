"""The running stack seen from a test or the smoke script: its environment, its database,
its manage.py, and its services (through scripts/stack.sh, by pid file, never by name).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACK_SH = ROOT / "scripts" / "stack.sh"
BANK_USER = "bank01"  # interfaces.md: the first partner bank's user
BANK_CODE = "B01"
ADMIN_USER = "bureau_admin"


class StackNotUp(RuntimeError):
    pass


def read_env(path: Path | None = None) -> dict[str, str]:
    """``var/stack/env`` (lines ``KEY=value`` quoted by bash's printf %q) as a dict."""
    path = path or Path(os.environ.get("STACK_DIR", ROOT / "var" / "stack")) / "env"
    if not path.is_file():
        raise StackNotUp(f"{path} missing: start the stack with `bash scripts/stack.sh up`")
    env: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, raw = line.split("=", 1)
        parts = shlex.split(raw) if raw else [""]
        env[key] = parts[0] if parts else ""
    return env


@dataclass
class Stack:
    env: dict[str, str]

    @classmethod
    def current(cls) -> Stack:
        return cls(read_env())

    @property
    def url(self) -> str:
        return self.env["STACK_URL"]

    @property
    def demo_password(self) -> str:
        return self.env["DEMO_PASSWORD"]

    def process_env(self, **overrides: str) -> dict[str, str]:
        return {**os.environ, **self.env, **overrides}

    # --- manage.py ------------------------------------------------------------------------
    def manage(self, *args: str, check: bool = True, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.process_env(**env),
            capture_output=True, text=True, timeout=timeout, check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} exit {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def bank_token(self, username: str = BANK_USER) -> str:
        out = self.manage("drf_create_token", username).stdout
        found = re.search(r"\b([0-9a-f]{40})\b", out)
        if not found:
            raise AssertionError(f"no token in drf_create_token's answer: {out!r}")
        return found.group(1)

    # --- services ---------------------------------------------------------------------------
    def ctl(self, verb: str, service: str, *, timeout: float = 180) -> None:
        """``scripts/stack.sh kill|stop|start SERVICE``."""
        done = subprocess.run(["bash", str(STACK_SH), verb, service], cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, check=False)
        sys.stderr.write(done.stderr)
        if done.returncode != 0:
            raise AssertionError(f"stack.sh {verb} {service} failed ({done.returncode}): {done.stderr[-2000:]}")

    # --- database (psycopg, not the Django ORM: the tests watch the stack from outside) ----------
    def connect(self):
        import psycopg

        return psycopg.connect(self.env["DATABASE_URL"], autocommit=True, connect_timeout=5)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: tuple = ()):
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def wait_for_database(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.scalar("SELECT 1")
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
