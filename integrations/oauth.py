"""OAuth2 glue: the client-credentials-only server, per-client scopes, the bad-secret throttle and
the token budget (SPEC §3, §18), and client creation."""

from __future__ import annotations

import base64
import binascii
import hashlib
from urllib.parse import unquote_plus

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes
from oauthlib.oauth2 import BackendApplicationServer
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from config.api.errors import TooManyRequests
from config.api.ratelimit import failures_exceeded, record_failure, spend
from config.api.scopes import ALL_SCOPES
from integrations.models import ClientProfile

#: the only grant the token endpoint speaks (SPEC §3)
CLIENT_CREDENTIALS = "client_credentials"


def client_scopes(application: Application | None) -> list[str]:
    if application is None:
        return []
    try:
        return application.profile.scope_list
    except ClientProfile.DoesNotExist:
        return []


class ClientScopes(BaseScopes):
    """A client may ask for the scopes it holds; without ``scope=`` it gets all of them."""

    def get_all_scopes(self):
        from config.api.scopes import SCOPES

        return dict(SCOPES)

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return client_scopes(application)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return client_scopes(application)


class TemporarilyRefused(OAuth2Error):
    """429 in the RFC 6749 §5.2 shape, with ``Retry-After``.

    The error is ``temporarily_unavailable`` (RFC 6749's registered code for "try again later"),
    never ``invalid_client``: client libraries report ``invalid_client`` as revoked credentials,
    and ``slow_down`` belongs to device-code polling (RFC 8628), which this server does not speak.
    """

    error = "temporarily_unavailable"
    status_code = 429

    def __init__(self, description: str, retry_after: int) -> None:
        super().__init__(description=description)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def caller_address(meta: dict) -> str:
    """The caller's IP address: ``REMOTE_ADDR``, or, behind ``TRUSTED_PROXY_HOPS`` proxies that
    append to ``X-Forwarded-For``, the address the outermost trusted proxy saw. Entries a caller
    wrote into the header itself are never trusted."""
    hops = settings.TRUSTED_PROXY_HOPS
    if hops > 0:
        forwarded = [a.strip() for a in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return meta.get("REMOTE_ADDR", "")


def request_caller_address(request) -> str:
    """``caller_address`` of a Django request (the admin login throttle counts by it too)."""
    return caller_address(request.META)


def claimed_client_id(request) -> str:
    """The client id an oauthlib request claims (HTTP Basic first, then the body), unverified."""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return unquote_plus(decoded.partition(":")[0])
    return request.client_id or ""


def _failure_identity(request) -> str:
    client_id = claimed_client_id(request)
    if not client_id:
        return ""
    # hashed: the client id is caller input of any length, the key must stay short
    raw = f"{client_id}\n{caller_address(request.headers)}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def spend_token_budget(request) -> None:
    """Count one token issued to the authenticated client (``TOKEN_REQUESTS_PER_MINUTE``)."""
    try:
        spend("token", request.client.client_id, settings.TOKEN_REQUESTS_PER_MINUTE)
    except TooManyRequests as exceeded:
        raise TemporarilyRefused(
            f"At most {settings.TOKEN_REQUESTS_PER_MINUTE} tokens per minute per client; "
            "reuse the token you have until it expires.",
            int(exceeded.headers["Retry-After"]),
        ) from exceeded


class CatalogueOAuth2Validator(OAuth2Validator):
    """Client credentials only; the token gets the client's scopes unless it asks for fewer.

    Client authentication (token, revocation and introspection alike) counts wrong secrets per
    client id and caller address: past ``TOKEN_FAILURES_PER_MINUTE`` a wrong secret answers 429,
    while a correct one is always accepted, so nobody can lock an integration out (SPEC §18).
    """

    def authenticate_client(self, request, *args, **kwargs):
        if super().authenticate_client(request, *args, **kwargs):
            return True
        identity = _failure_identity(request)
        wait = failures_exceeded("client-secret", identity, settings.TOKEN_FAILURES_PER_MINUTE)
        if wait is not None:
            raise TemporarilyRefused(
                f"Too many failed client authentications; retry in {wait} s.", wait
            )
        record_failure("client-secret", identity)
        return False


class ClientCredentialsServer(BackendApplicationServer):
    """oauthlib's server for the client-credentials grant alone: token, revocation, introspection.

    Any other ``grant_type`` meets no handler for it and is refused before any lookup; a token is
    issued only within the client's per-minute budget.
    """

    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        self.credentials_grant.custom_validators.post_token.append(spend_token_budget)


def create_api_client(*, name: str, scopes: list[str]) -> tuple[Application, str]:
    """Create a confidential client-credentials client and return it with its plaintext secret.

    The secret is hashed on save and cannot be read back; callers print it once.
    Raises ``ValueError`` for an unknown scope.
    """
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise ValueError(f"Unknown scopes: {', '.join(unknown)}")
    secret = generate_client_secret()
    with transaction.atomic():
        application = Application.objects.create(
            name=name,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            hash_client_secret=True,
        )
        ClientProfile.objects.create(application=application, scopes=" ".join(scopes))
    return application, secret


def access_tokens_narrow(*, application: Application) -> int:
    """Cut ``application``'s tokens down to the scopes it holds now; delete those left with none.

    Runs in the caller's transaction (the admin saves the scopes and narrows in one), so a token
    never outlives a removed scope: bearer auth reads the row on every request. Statements scale
    with the number of distinct scope sets, not of tokens. Returns how many tokens changed.
    """
    profile = ClientProfile.objects.filter(application=application)
    held = set((profile.values_list("scopes", flat=True).first() or "").split())
    tokens = AccessToken.objects.filter(application=application)
    changed = 0
    with transaction.atomic():
        for scope in tokens.order_by().values_list("scope", flat=True).distinct():
            kept = [name for name in scope.split() if name in held]
            if kept == scope.split():
                continue
            same = tokens.filter(scope=scope)
            if kept:
                changed += same.update(scope=" ".join(kept))
            else:
                changed += same.delete()[1].get(AccessToken._meta.label, 0)
    return changed


def access_tokens_prune_expired(*, batch_size: int = 5_000) -> int:
    """Delete expired access tokens, a batch per short transaction; returns how many.

    Expired tokens authenticate nothing and introspect as inactive, so nothing reads them again.
    Idempotent: a second run finds nothing to delete.
    """
    now = timezone.now()
    expired = AccessToken.objects.filter(expires__lt=now).order_by()
    pruned = 0
    while ids := list(expired.values_list("id", flat=True)[:batch_size]):
        with transaction.atomic():
            AccessToken.objects.filter(id__in=ids).delete()
        pruned += len(ids)
    return pruned
