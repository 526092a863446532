"""OAuth2 glue: per-client scopes and client creation."""

from __future__ import annotations

from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Application
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes

from config.api.scopes import ALL_SCOPES
from integrations.models import ClientProfile


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


class CatalogueOAuth2Validator(OAuth2Validator):
    """Client credentials only; the token gets the client's scopes unless it asks for fewer."""


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
