"""A small load generator for when wrk is not installed (scripts/load.sh falls back to it).

    python tests/load/loadgen.py URL --seconds 5 --connections 8 [-H "Name: value"]…

Threads each send requests one after another on their own keep-alive connection for the
given time; the rate counts the answers received within that time (as wrk does); then one line is printed in wrk's reporter format (tests/load/report.lua):
    WRKRESULT requests=… seconds=… rps=… p50_ms=… p95_ms=… p99_ms=… max_ms=… non2xx=… socket_errors=…
Bounded: at most 15 s, and only loopback addresses are accepted.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

MAX_SECONDS = 15


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def worker(url, headers: dict[str, str], deadline: float, out: list, lock: threading.Lock) -> None:
    latencies: list[float] = []
    in_window = 0  # requests answered before the deadline (the rate counts only those)
    non2xx = errors = 0
    conn = None
    path = url.path + (f"?{url.query}" if url.query else "")
    while time.monotonic() < deadline:
        if conn is None:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        started = time.perf_counter()
        try:
            conn.request("GET", path or "/", headers=headers)
            response = conn.getresponse()
            response.read()
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            errors += 1
            if conn is not None:
                conn.close()
            conn = None
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        in_window += time.monotonic() <= deadline
        if not 200 <= response.status < 400:
            non2xx += 1
    if conn is not None:
        conn.close()
    with lock:
        out.append((latencies, non2xx, errors, in_window))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("-H", "--header", action="append", default=[])
    args = parser.parse_args()
    url = urlsplit(args.url)
    if not ipaddress.ip_address(socket.gethostbyname(url.hostname)).is_loopback:
        parser.error("only loopback targets are allowed")
    seconds = min(args.seconds, MAX_SECONDS)
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    out: list = []
    lock = threading.Lock()
    started = time.monotonic()
    threads = [
        threading.Thread(target=worker, args=(url, headers, started + seconds, out, lock), daemon=True)
        for _ in range(args.connections)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 15)
    latencies = sorted(x for lat, _, _, _ in out for x in lat)
    non2xx = sum(n for _, n, _, _ in out)
    errors = sum(e for _, _, e, _ in out)
    answered = sum(w for _, _, _, w in out)
    print(
        f"WRKRESULT requests={len(latencies)} seconds={seconds:.3f} rps={answered / seconds:.1f} "
        f"p50_ms={percentile(latencies, 50):.2f} p95_ms={percentile(latencies, 95):.2f} "
        f"p99_ms={percentile(latencies, 99):.2f} max_ms={(latencies[-1] if latencies else 0):.2f} "
        f"non2xx={non2xx} socket_errors={errors}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
