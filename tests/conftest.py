"""Suite-wide pytest hooks and the browser fixtures for tests/e2e.

- Tests marked ``postgres`` are skipped ("需要 PostgreSQL") when the database is not
  PostgreSQL, except under ``CI=true`` with ``REQUIRE_POSTGRES=1`` (the PostgreSQL stage of
  scripts/test.sh), where they fail: there a skip would hide a broken setup.
- ``browser`` (session), ``page`` (1280x900) and ``phone_page`` (390x844) drive Debian's
  Chromium through Playwright's sync API. Without /usr/bin/chromium the e2e tests are skipped,
  or fail under ``CI=true``.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT_DIR = PROJECT_ROOT / "var" / "screenshots"

_NEEDS_POSTGRES = pytest.StashKey[str]()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _database_vendor() -> str:
    from django.db import connections

    return connections["default"].vendor


def pytest_collection_modifyitems(config, items):
    marked = [item for item in items if item.get_closest_marker("postgres")]
    if not marked:
        return
    vendor = _database_vendor()
    if vendor == "postgresql":
        return
    if _in_ci() and os.environ.get("REQUIRE_POSTGRES") == "1":
        reason = f"需要 PostgreSQL：CI=true 且 REQUIRE_POSTGRES=1，但数据库是 {vendor}（检查 DATABASE_URL）"
        for item in marked:
            item.stash[_NEEDS_POSTGRES] = reason
        return
    skip = pytest.mark.skip(reason="需要 PostgreSQL")
    for item in marked:
        item.add_marker(skip)


def pytest_runtest_setup(item):
    reason = item.stash.get(_NEEDS_POSTGRES, None)
    if reason:
        pytest.fail(reason, pytrace=False)


# --- browser tests ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session (Debian's, never a downloaded build)."""
    if not Path(CHROMIUM).is_file():
        message = f"{CHROMIUM} not found: apt-get install chromium"
        if _in_ci():
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)

    # Playwright's sync API keeps an asyncio loop running in this thread, which trips
    # Django's async-unsafe guard for ORM calls made by the tests (and by live_server's
    # database teardown). The tests call the ORM synchronously, so this is safe here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _new_page(browser, **context_options):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **context_options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


@pytest.fixture
def page(browser):
    """A fresh desktop-sized page (own cookies) per test."""
    context, page = _new_page(browser, viewport={"width": 1280, "height": 900})
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    """A fresh phone-sized page (390x844, touch) per test."""
    context, page = _new_page(
        browser,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    yield page
    context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    """var/screenshots/ in the project, created on demand (ignored by git)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
