from config.api.responses import ok
from config.api.routing import ApiView, Operation


class AuthenticatedNoop(ApiView):
    """The service's whole auth path (token lookup + scope check) and nothing else."""

    operations = {"GET": Operation(("products:read",), "No-op behind authentication")}

    def get(self, request):
        return ok({})
