"""Production server settings (gunicorn). Workers are stateless; scale out behind a balancer."""

import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
accesslog = None  # the app writes one JSON line per request itself
errorlog = "-"
wsgi_app = "config.wsgi:application"
