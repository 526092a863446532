"""Jobs in the back office (SPEC §21): an import page for merchandisers (upload a CSV or NDJSON
file, entity, key, directives, dry run first), the job list and a job page whose progress
refreshes itself while the job runs, with the error report to download.

Who may import what: the ``import_<entity>_job`` permissions (the Merchandiser group holds
products and categories). A user sees the jobs they started; superusers see every job.
"""

from __future__ import annotations

from typing import Any

import orjson
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from config.admin import StrictAdmin
from config.api.errors import ApiError
from integrations.catalogue_io import guess_format
from jobs import services
from jobs.api.views import error_report
from jobs.models import Job

ENTITIES = ("products", "categories", "clusters")


def importable(user) -> list[str]:
    return [e for e in ENTITIES if user.has_perm(f"jobs.import_{e}_job")]


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="CSV (with a header row) or NDJSON, as import_catalogue reads."
    )
    entity = forms.ChoiceField()
    lookup_key = forms.CharField(
        initial="sourceId",
        help_text="How records are matched: sourceId (with source), id, sku, code, slug…",
    )
    directives = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='Optional bulk directives as JSON, e.g. {"skipCreate": true}.',
    )
    dry_run = forms.BooleanField(
        required=False, initial=True, help_text="Compute the outcomes, write nothing."
    )
    atomic = forms.BooleanField(required=False, help_text="All or nothing.")

    def __init__(self, *args: Any, entities: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        entity = self.fields["entity"]
        assert isinstance(entity, forms.ChoiceField)
        entity.choices = [(e, e.capitalize()) for e in entities]

    def clean_directives(self) -> Any:
        raw = self.cleaned_data["directives"].strip()
        if not raw:
            return None
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}") from exc


@admin.register(Job)
class JobAdmin(StrictAdmin):
    list_display = ("id", "kind", "entity", "status", "progress_text", "submitted_at", "owner")
    list_filter = ("status", "kind", "entity")
    ordering = ("-id",)
    show_full_result_count = False
    change_form_template = "admin/jobs/job/detail.html"
    change_list_template = "admin/jobs/job/change_list.html"

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request).select_related("created_by")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(created_by=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs are made by the import page and the API

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Progress")
    def progress_text(self, job: Job) -> str:
        total = "?" if job.total is None else job.total
        return f"{job.cursor}/{total} ({job.failed_items} failed)"

    @admin.display(description="Started by")
    def owner(self, job: Job) -> str:
        if job.created_by is not None:
            return job.created_by.get_username()
        return f"client {job.client_id}" if job.client_id else "system"

    def get_urls(self):
        own = [
            path("import/", self.admin_site.admin_view(self.import_view), name="jobs_job_import"),
            path(
                "<int:job_id>/errors/",
                self.admin_site.admin_view(self.errors_view),
                name="jobs_job_errors",
            ),
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_queryset(request).filter(pk=object_id).first()
        if job is None or not self.has_view_permission(request, job):
            raise Http404("No such job.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(job),
            "job": job,
            "progress": job.progress(),
            "refresh": not job.finished,
            "errors_url": reverse("admin:jobs_job_errors", args=[job.pk]),
        }
        return TemplateResponse(request, self.change_form_template, context)

    def errors_view(self, request: HttpRequest, job_id: int) -> StreamingHttpResponse:
        job = self.get_queryset(request).filter(pk=job_id).first()
        if job is None or not self.has_view_permission(request, job):
            raise Http404("No such job.")
        response = StreamingHttpResponse(error_report(job), content_type="application/x-ndjson")
        response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-errors.ndjson"'
        return response

    def import_view(self, request: HttpRequest) -> HttpResponse:
        entities = importable(request.user)
        if not entities or not request.user.has_perm("jobs.add_job"):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None, entities=entities)
        if request.method == "POST" and form.is_valid():
            job = self._submit(request, form)
            if job is not None:
                messages.success(request, f"Job {job.pk} started.")
                return redirect("admin:jobs_job_change", job.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import a catalogue file",
            "form": form,
        }
        return TemplateResponse(request, "admin/jobs/job/import.html", context)

    def _submit(self, request: HttpRequest, form: ImportForm) -> Job | None:
        data = form.cleaned_data
        upload = data["file"]
        fmt = guess_format(upload.name)
        try:
            route, resource, key = services.import_resource(
                data["entity"], data["lookup_key"], products_write=True
            )
            stored = services.store_upload(upload, fmt)
            return services.submit_import(
                entity=data["entity"],
                route=route,
                resource=resource,
                lookup_key=key,
                stored=stored[:2],
                fmt=fmt,
                directives=data["directives"],
                dry_run=data["dry_run"],
                atomic=data["atomic"],
                user=request.user,
                request_id=getattr(request, "request_id", ""),
            )
        except ApiError as exc:
            detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in (exc.fields or {}).items())
            form.add_error(None, f"{exc.message} {detail}".strip())
            return None
