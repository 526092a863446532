"""The boundary with upstream systems: source links and API client scopes."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from oauth2_provider.models import Application

SOURCE_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


class SourceLink(models.Model):
    """A ``(source, sourceId)`` pair linking a record to an upstream system (SPEC §7).

    Concrete subclasses add the foreign key to their record and a unique constraint on
    ``(source, source_id)``, which makes a pair unique per resource type.
    """

    source = models.CharField(max_length=64, validators=[RegexValidator(SOURCE_PATTERN)])
    source_id = models.CharField(max_length=255)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.source}:{self.source_id}"


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
