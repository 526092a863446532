"""Settings of the test suite (pytest-django's ``DJANGO_SETTINGS_MODULE``).

Throwaway values the tests need before ``config.settings`` is imported: pytest-django imports the
settings before any ``conftest.py`` runs, so plain ``pytest`` cannot set them there. A developer's
``.env`` is not read, so the suite runs the same in every checkout (and in the processes it starts).
"""

import os

_THROWAWAY = {
    "SECRET_KEY": "test-secret-key-not-for-production",
    "TESTING": "1",
    # the test client speaks plain HTTP; production redirects to HTTPS by default
    "SECURE_SSL_REDIRECT": "0",
    # the hosts the test client, live servers and schemathesis (http://localhost) use, DEBUG or not
    "ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
}
# An empty value counts as unset: a shell that exports ``SECRET_KEY=`` must not stop plain pytest.
for _name, _value in _THROWAWAY.items():
    if not os.environ.get(_name):
        os.environ[_name] = _value
os.environ.setdefault("ENV_FILE", "")

# A star import (not a copy of vars()) so mypy's Django plugin sees the project's settings.
from config.settings import *  # noqa: E402, F403
