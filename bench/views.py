from unittest import mock

from django.urls import resolve
from django.views.decorators.csrf import csrf_exempt

from config.api.responses import ok
from config.api.routing import ApiView, Operation


class AuthenticatedNoop(ApiView):
    """The service's whole auth path (token lookup + scope check) and nothing else."""

    operations = {"GET": Operation(("products:read",), "No-op behind authentication")}

    def get(self, request):
        return ok({})


class PublicNoop(ApiView):
    """The same view with nothing to authenticate: the baseline that isolates the auth path."""

    operations = {"GET": Operation((), "No-op without authentication")}

    def get(self, request):
        return ok({})


def _no_change_events(resource, plan) -> None:
    """The bulk path's outbox append, switched off: the baseline of the events' cost."""


@csrf_exempt
def without_change_events(request, route: str):
    """The service's own bulk route with its change events switched off (issue 18's baseline:
    the same request, the same code, minus ``record_bulk``). Bench settings only; gunicorn's sync
    workers serve one request at a time, so patching the module for the call is contained."""
    match = resolve(f"/v2/{route}")
    with mock.patch("records.bulk_records.record_bulk", _no_change_events):
        return match.func(request, *match.args, **match.kwargs)
