"""Fixed-window request counters in Django's cache (the anonymous lookup, activation, login).

With several server processes the cache must be shared (Redis) for the limits to hold
across processes; with the default local-memory cache each process counts on its own.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest

WINDOW_SECONDS = 60
clock = time.time  # the window's clock (tests stop it so a test's requests fall in one window)


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR (a reverse proxy must set it from the real client, not from a header we trust here)."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def hit(scope: str, key: str, *, limit: int, window: int = WINDOW_SECONDS) -> bool:
    """Count one request for (scope, key); False once more than ``limit`` arrived in this window."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"throttle:{scope}:{digest}:{int(clock() // window)}"
    if cache.add(cache_key, 1, timeout=window + 5):
        return limit >= 1
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 5)
        count = 1
    return count <= limit
