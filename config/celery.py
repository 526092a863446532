"""The Celery application (``celery -A config worker`` / ``celery -A config beat``).

Configured from Django settings (``CELERY_*``); tasks live in ``<app>/tasks.py`` and are found by
``autodiscover_tasks``. Periodic work is ``CELERY_BEAT_SCHEDULE`` in settings.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
