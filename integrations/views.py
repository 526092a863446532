"""OAuth2 endpoints: token and revocation come from DOT; introspection authenticates the client
with HTTP Basic like the others (DOT's own view wants a bearer token with an extra scope)."""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
from urllib.parse import unquote_plus

from django.conf import settings
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import AccessToken
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.views import TokenView
from oauthlib.common import Request as OauthlibRequest

from config.api.ratelimit import failures_exceeded, record_failure


@method_decorator(csrf_exempt, name="dispatch")
class IntrospectView(View):
    """RFC 7662: ``active`` plus details, only for tokens issued to the calling client."""

    http_method_names = ["post"]

    def post(self, request):
        core = get_oauthlib_core()
        uri, method, body, headers = core._extract_params(request)
        oauth_request = OauthlibRequest(uri, method, body, headers)
        if not core.server.request_validator.authenticate_client(oauth_request):
            response = JsonResponse(
                {"error": "invalid_client", "error_description": "Client authentication failed."},
                status=401,
            )
            response["WWW-Authenticate"] = 'Basic realm="oauth2"'
            return response
        token = request.POST.get("token")
        if not token:
            return JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": "The token parameter is missing.",
                },
                status=400,
            )
        access = (
            AccessToken.objects.select_related("application")
            .filter(
                token_checksum=hashlib.sha256(token.encode()).hexdigest(),
                application=oauth_request.client,
            )
            .first()
        )
        if access is None or access.is_expired():
            return self._no_store(JsonResponse({"active": False}))
        return self._no_store(
            JsonResponse(
                {
                    "active": True,
                    "scope": access.scope,
                    "client_id": access.application.client_id,
                    "token_type": "Bearer",
                    "exp": int(calendar.timegm(access.expires.utctimetuple())),
                }
            )
        )

    @staticmethod
    def _no_store(response: JsonResponse) -> JsonResponse:
        response["Cache-Control"] = "no-store"
        return response


def _client_id(request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return unquote_plus(decoded.partition(":")[0])
    return request.POST.get("client_id", "")


@method_decorator(csrf_exempt, name="dispatch")
class ThrottledTokenView(TokenView):
    """DOT's token endpoint, refusing a client id after repeated bad secrets (SPEC §18)."""

    def post(self, request, *args, **kwargs):
        client_id = _client_id(request)
        limit = settings.TOKEN_FAILURES_PER_MINUTE
        wait = failures_exceeded("token", client_id, limit)
        if wait is not None:
            response = JsonResponse(
                {
                    "error": "invalid_client",
                    "error_description": f"Too many failed authentications; retry in {wait} s.",
                },
                status=429,
            )
            response["Retry-After"] = str(wait)
            response["Cache-Control"] = "no-store"
            return response
        response = super().post(request, *args, **kwargs)
        if response.status_code == 401:
            record_failure("token", client_id)
        return response
