"""Benchmark settings: the service plus the naive and floor baselines, and a query counter."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]  # noqa: F405
RATE_LIMIT_PER_MINUTE = 0
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"level": "ERROR"}}
