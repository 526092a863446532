"""OAuth2 endpoints (SPEC §3): the client-credentials token endpoint, RFC 7009 revocation and
RFC 7662 introspection, each authenticating the calling client with HTTP Basic (or body
credentials) through the validator, which also throttles wrong secrets (SPEC §18).

DOT's introspection view wants a bearer token with an extra scope; ours authenticates the client
like the other two. DOT's other routes (authorize, device authorization, applications, …) are not
mounted at all.
"""

from __future__ import annotations

import calendar
import hashlib
from typing import TypeVar

from django.http import HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import AccessToken
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.views import RevokeTokenView, TokenView
from oauthlib.common import Request as OauthlibRequest

from integrations.oauth import CLIENT_CREDENTIALS, TemporarilyRefused

#: the challenge of a failed client authentication (RFC 6749 §5.2: the scheme the client used;
#: for body credentials too, since every 401 needs a challenge and Basic is the preferred scheme)
CLIENT_CHALLENGE = 'Basic realm="oauth2"'


def oauth_error(
    error: str, description: str, status: int, headers: dict[str, str] | None = None
) -> JsonResponse:
    """An RFC 6749 §5.2 error answer."""
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return finished(response)


_Response = TypeVar("_Response", bound=HttpResponse)


def finished(response: _Response) -> _Response:
    """Every answer of the OAuth2 endpoints: never cached, and a 401 challenges for Basic."""
    response["Cache-Control"] = "no-store"
    if response.status_code == 401:
        response["WWW-Authenticate"] = CLIENT_CHALLENGE
    return response


@method_decorator(csrf_exempt, name="dispatch")
class ClientCredentialsTokenView(TokenView):
    """DOT's token endpoint for ``grant_type=client_credentials`` alone (SPEC §3).

    Any other grant is refused here, before DOT looks up a user, a code or a device.
    """

    def post(self, request, *args, **kwargs):
        grant_type = request.POST.get("grant_type")
        if not grant_type:
            return oauth_error("invalid_request", "The grant_type parameter is missing.", 400)
        if grant_type != CLIENT_CREDENTIALS:
            return oauth_error(
                "unsupported_grant_type", "Only the client_credentials grant is supported.", 400
            )
        return finished(super().post(request, *args, **kwargs))


@method_decorator(csrf_exempt, name="dispatch")
class ClientRevokeTokenView(RevokeTokenView):
    """RFC 7009 revocation of the calling client's own tokens."""

    def post(self, request, *args, **kwargs):
        return finished(super().post(request, *args, **kwargs))


@method_decorator(csrf_exempt, name="dispatch")
class IntrospectView(View):
    """RFC 7662: ``active`` plus details, only for tokens issued to the calling client."""

    http_method_names = ["post"]

    def post(self, request):
        core = get_oauthlib_core()
        uri, method, body, headers = core._extract_params(request)
        oauth_request = OauthlibRequest(uri, method, body, headers)
        try:
            authenticated = core.server.request_validator.authenticate_client(oauth_request)
        except TemporarilyRefused as refused:
            return oauth_error(refused.error, refused.description, 429, refused.headers)
        if not authenticated:
            return oauth_error("invalid_client", "Client authentication failed.", 401)
        token = request.POST.get("token")
        if not token:
            return oauth_error("invalid_request", "The token parameter is missing.", 400)
        access = (
            AccessToken.objects.select_related("application")
            .filter(
                token_checksum=hashlib.sha256(token.encode()).hexdigest(),
                application=oauth_request.client,
            )
            .first()
        )
        if access is None or access.is_expired():
            return finished(JsonResponse({"active": False}))
        return finished(
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
