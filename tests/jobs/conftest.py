"""The back office fixtures of tests/admin, for the jobs admin tests."""

from tests.admin.conftest import merchandiser, merchandiser_client  # noqa: F401
