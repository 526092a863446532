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
