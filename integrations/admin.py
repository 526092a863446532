"""API clients in the admin: DOT's Application with the scopes the client holds (superusers)."""

from django import forms
from django.contrib import admin
from oauth2_provider.admin import ApplicationAdmin
from oauth2_provider.models import Application

from config.admin import StrictChangeList, SuperuserOnly
from config.api.scopes import SCOPES
from integrations.models import ClientProfile
from integrations.oauth import access_tokens_narrow


class ClientProfileForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=list(SCOPES.items()), widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = ClientProfile
        fields = ["scopes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["scopes"] = self.instance.scope_list

    def clean_scopes(self):
        return " ".join(self.cleaned_data["scopes"])


class ClientProfileInline(admin.StackedInline):
    model = ClientProfile
    form = ClientProfileForm
    can_delete = False
    verbose_name = "API scopes"


class ApiClientAdmin(SuperuserOnly, ApplicationAdmin):
    inlines = [ClientProfileInline]
    list_display = ("name", "client_id", "client_type", "authorization_grant_type", "created")

    def save_related(self, request, form, formsets, change):
        """Removed scopes leave the client's live tokens in the same transaction (SPEC §3)."""
        super().save_related(request, form, formsets, change)
        narrowed = access_tokens_narrow(application=form.instance)
        if narrowed:
            self.message_user(request, f"{narrowed} live access token(s) lost removed scopes.")

    def get_changelist(self, request, **kwargs):
        return StrictChangeList


admin.site.unregister(Application)
admin.site.register(Application, ApiClientAdmin)


# django-axes' own admins (login attempts) answer malformed list filter values like ours
# (``?path_info=%00`` was a 500 on PostgreSQL), not with a database error.
for _model, _model_admin in list(admin.site._registry.items()):
    if _model._meta.app_label == "axes":
        type(_model_admin).get_changelist = lambda self, request, **kwargs: StrictChangeList
