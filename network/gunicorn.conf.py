"""gunicorn settings for production and the benchmark: `gunicorn -c network/gunicorn.conf.py network.wsgi`.

gthread workers: each process serves several requests at once on threads, which is what lets the click
path's group commit (tracking/recorder.py) share one COMMIT among the requests in flight. Python runs
one thread at a time per process, so workers ≈ cores; threads cover the time spent waiting on
PostgreSQL and Redis. Every thread keeps its own database connection (DATABASE_CONN_MAX_AGE), so
workers × threads (+1 writer per worker) must fit PostgreSQL's max_connections.

Environment: GUNICORN_BIND (0.0.0.0:8000), GUNICORN_WORKERS (CPU count), GUNICORN_THREADS (16),
GUNICORN_ACCESS_LOG ("-" for stdout; unset = none: an access log line per click costs throughput).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
worker_class = "gthread"
# Idle keep-alive connections hold a thread slot in gthread only while a request runs; keep them open a while.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# Recycle workers now and then (memory growth); jitter so they do not all restart at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "0"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Forwarded headers are trusted only from these addresses (the TLS proxy in front).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
