"""Bearer-token authentication: one indexed lookup per token, nothing hashed but a SHA-256.

DOT's own ``OAuth2Authentication`` runs the whole oauthlib pipeline and accepts tokens in the query
string, which SPEC §3 forbids; this reads only the ``Authorization`` header.

A validated token is remembered in the worker for ``TOKEN_CACHE_SECONDS`` (default 5, 0 turns it
off), which saves the database round trip of every request an integration sends in a burst. Its
expiry is checked on every request; deleting or changing the token row (revocation, the admin)
forgets it in this worker at once, and other workers stop accepting it within that many seconds.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from oauth2_provider.models import AccessToken
from rest_framework.authentication import BaseAuthentication

from config.api.context import client_id_var
from config.api.errors import Unauthorized
from config.api.exceptions import bearer_challenge


def invalid_token(message: str) -> Unauthorized:
    return Unauthorized(message, headers={"WWW-Authenticate": bearer_challenge("invalid_token")})


@dataclass(frozen=True)
class Grant:
    """What a valid access token grants: ``request.auth`` of an authenticated API request."""

    token_id: int
    scope: str
    client_id: str
    expires: datetime

    def is_expired(self) -> bool:
        return timezone.now() >= self.expires


#: token checksum → (monotonic time it was read, its grant); per worker process
_GRANTS: dict[str, tuple[float, Grant]] = {}
_MAX_GRANTS = 10_000


def _grant(checksum: str) -> Grant | None:
    ttl = settings.TOKEN_CACHE_SECONDS
    now = time.monotonic()
    cached = _GRANTS.get(checksum) if ttl > 0 else None
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    access = (
        AccessToken.objects.select_related("application")
        .filter(token_checksum=checksum)
        .only("id", "expires", "scope", "application__id", "application__client_id")
        .first()
    )
    if access is None:
        _GRANTS.pop(checksum, None)
        return None
    grant = Grant(
        token_id=access.pk,
        scope=access.scope,
        client_id=access.application.client_id if access.application else "",
        expires=access.expires,
    )
    if ttl > 0:
        if len(_GRANTS) >= _MAX_GRANTS:
            _GRANTS.clear()
        _GRANTS[checksum] = (now, grant)
    return grant


@receiver([post_save, post_delete], sender=AccessToken, dispatch_uid="forget_cached_grant")
def forget_grant(sender, instance: AccessToken, **kwargs) -> None:
    """A revoked, deleted or changed token is not served from this worker's cache again."""
    _GRANTS.pop(instance.token_checksum, None)


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            raise invalid_token("The Authorization header must be 'Bearer <token>'.")
        grant = _grant(hashlib.sha256(token.encode()).hexdigest())
        if grant is None:
            raise invalid_token("The access token is invalid or has been revoked.")
        if grant.is_expired():
            raise invalid_token("The access token has expired.")
        client_id_var.set(grant.client_id)
        return (None, grant)

    def authenticate_header(self, request) -> str:
        return bearer_challenge()
