"""Settings of the test suite (pytest-django's ``DJANGO_SETTINGS_MODULE``).

Throwaway values the tests need before ``config.settings`` is imported: pytest-django imports the
settings before any ``conftest.py`` runs, so plain ``pytest`` cannot set them there. A developer's
``.env`` is not read, so the suite runs the same in every checkout (and in the processes it starts).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("TESTING", "1")
os.environ.setdefault("ENV_FILE", "")
# the test client speaks plain HTTP; production redirects to HTTPS by default
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# the hosts the test client, live servers and schemathesis (http://localhost) use, DEBUG or not
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")

# A star import (not a copy of vars()) so mypy's Django plugin sees the project's settings.
from config.settings import *  # noqa: E402, F403
