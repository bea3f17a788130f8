"""Gunicorn settings for the web process (systemd unit and scripts/stack.sh use this file).

Every value can be overridden by an environment variable (see deploy/env.example):
GUNICORN_BIND (127.0.0.1:8000), GUNICORN_WORKERS (2 × cores + 1, at most 8), GUNICORN_TIMEOUT (60 s),
GUNICORN_MAX_REQUESTS (1000; a worker is recycled after that many requests, ± 10 % jitter).
Logs: gunicorn's own lines as JSON on stderr, like Django's; the access line comes from
config.middleware.RequestIdMiddleware (with the request id), so gunicorn's access log is off.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
worker_class = "sync"
# a request may upload a 20 MB workbook over a slow line; nginx buffers it, so 60 s is plenty
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = max_requests // 10
# the proxy in front (nginx on the same host) is trusted for X-Forwarded-* headers
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "fundpool-web"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
    "filters": {"request_context": {"()": "config.logging.RequestContextFilter"}},
    "handlers": {
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_context"],
            "stream": "ext://sys.stderr",
        },
    },
    # gunicorn merges this over its defaults, whose root logger names a "console" handler
    "root": {"level": "INFO", "handlers": ["error_console"]},
    "loggers": {"gunicorn.error": {"level": loglevel.upper(), "handlers": ["error_console"], "propagate": False}},
}
