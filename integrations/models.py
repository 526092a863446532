"""API clients: the scopes each OAuth2 client may ask for."""

from __future__ import annotations

from django.db import models
from oauth2_provider.models import Application


class ClientProfile(models.Model):
    """The scopes an OAuth2 client (a DOT ``Application``) may ask for; all of them by default."""

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="profile"
    )
    scopes = models.TextField(blank=True, help_text="Space-separated scopes the client holds.")

    def __str__(self) -> str:
        return f"Scopes of {self.application}"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()
