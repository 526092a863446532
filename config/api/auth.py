"""Bearer-token authentication: one indexed lookup per request, nothing hashed but a SHA-256.

DOT's own ``OAuth2Authentication`` runs the whole oauthlib pipeline and accepts tokens in the query
string, which SPEC §3 forbids; this reads only the ``Authorization`` header.
"""

from __future__ import annotations

import hashlib

from oauth2_provider.models import AccessToken
from rest_framework.authentication import BaseAuthentication

from config.api.context import client_id_var
from config.api.errors import Unauthorized
from config.api.exceptions import bearer_challenge


def invalid_token(message: str) -> Unauthorized:
    return Unauthorized(message, headers={"WWW-Authenticate": bearer_challenge("invalid_token")})


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            raise invalid_token("The Authorization header must be 'Bearer <token>'.")
        checksum = hashlib.sha256(token.encode()).hexdigest()
        access = (
            AccessToken.objects.select_related("application")
            .filter(token_checksum=checksum)
            .only("id", "expires", "scope", "application__id", "application__client_id")
            .first()
        )
        if access is None:
            raise invalid_token("The access token is invalid or has been revoked.")
        if access.is_expired():
            raise invalid_token("The access token has expired.")
        client_id_var.set(access.application.client_id if access.application else "")
        return (None, access)

    def authenticate_header(self, request) -> str:
        return bearer_challenge()
