"""``/v2/jobs…`` and ``/v2/imports`` (SPEC §21), and the 202 answer of an asynchronous bulk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from django.http import StreamingHttpResponse
from rest_framework.response import Response

from config.api import errors, idempotency
from config.api.bulk_views import bulk_outcome_schema
from config.api.pagination import paginate_request
from config.api.params import BOOL, paging_params
from config.api.permissions import has_scope
from config.api.responses import listing, ok
from config.api.routing import ApiView, Operation, QueryParam
from jobs import resources, services
from jobs.api.representations import error_line, error_line_schema, job_representation, job_schema
from jobs.models import Job, JobOutcome
from records.bulk import ACTIONS, BulkResource
from records.context import client_id_var
from records.filters import check_query_params, parse_bool_param
from records.validation import MAX_ID

#: reading jobs: the scope every job's creator held (SPEC §3: jobs are read by their client)
JOB_SCOPES = ("bulk:write",)
JOB_ERRORS = (errors.JobNotFound,)
JOB_SORTS = {"id": "id", "submittedAt": "submitted_at"}
OUTCOME_SORTS = {"index": "index", "id": "id"}
OUTCOME_ACTIONS = (*ACTIONS, "error")


def _client(request) -> str:
    """The OAuth client id of the request's token (``Grant.client_id``)."""
    return request.auth.client_id


def accepted(request, job: Job) -> Response:
    """202 with the job, its URL in ``Location``."""
    location = request.build_absolute_uri(f"/v2/jobs/{job.pk}")
    return ok(
        job_representation(job, request),
        f"Job {job.pk} queued",
        status=202,
        headers={"Location": location},
    )


def submit_bulk_job(
    request,
    resource: BulkResource,
    *,
    route: str,
    owner: int | None,
    lookup_key: str,
    dry_run: bool,
    atomic: bool,
) -> Response:
    job = services.submit_bulk(
        resource,
        request.data,
        route=resources.spec(
            route, owner=owner, products_write=has_scope(request, "products:write")
        ),
        lookup_key=lookup_key,
        dry_run=dry_run,
        atomic=atomic,
        client_id=_client(request),
        request_id=getattr(request, "request_id", ""),
    )
    response = accepted(request, job)
    response["Preference-Applied"] = "respond-async"
    return response


def _job_pk(job_id: str) -> int:
    """The id of the path (digits only); one past the id column's range is no job at all."""
    pk = int(job_id)
    if not 0 < pk <= MAX_ID:
        raise errors.JobNotFound(f"No job {job_id} for this client.")
    return pk


def _own_job(request, job_id: str) -> Job:
    job = Job.objects.filter(pk=_job_pk(job_id), client_id=_client(request)).first()
    if job is None:
        raise errors.JobNotFound(f"No job {job_id} for this client.")
    return job


class JobListView(ApiView):
    tag = "Jobs"
    operations = {
        "GET": Operation(
            JOB_SCOPES,
            "The client's jobs, newest first",
            response=job_schema,
            many=True,
            query=paging_params(list(JOB_SORTS)),
            errors=(errors.PaginatedResponseException,),
        )
    }

    def get(self, request):
        check_query_params(request.query_params, {q.name for q in self.operations["GET"].query})
        page = paginate_request(
            request, Job.objects.filter(client_id=_client(request)), JOB_SORTS, default_sort="-id"
        )
        return listing(page, [job_representation(job, request) for job in page.rows])


class JobView(ApiView):
    tag = "Jobs"
    operations = {
        "GET": Operation(
            JOB_SCOPES, "A job: status and progress", response=job_schema, errors=JOB_ERRORS
        ),
        "DELETE": Operation(
            JOB_SCOPES,
            "Cancel the job at its next batch boundary (batches committed before stay)",
            response=job_schema,
            errors=(*JOB_ERRORS, errors.JobNotCancellable),
        ),
    }

    def get(self, request, job_id):
        return ok(job_representation(_own_job(request, job_id), request))

    def delete(self, request, job_id):
        job = services.cancel(_own_job(request, job_id))
        return ok(job_representation(job, request), "Job cancelled")


OUTCOME_QUERY = (
    QueryParam(
        "action",
        {
            "type": "string",
            "pattern": rf"^({'|'.join(OUTCOME_ACTIONS)})(,({'|'.join(OUTCOME_ACTIONS)}))*$",
        },
        f"Only these actions (comma-separated): {', '.join(OUTCOME_ACTIONS)}.",
    ),
    *paging_params(list(OUTCOME_SORTS)),
)


class JobOutcomesView(ApiView):
    tag = "Jobs"
    operations = {
        "GET": Operation(
            JOB_SCOPES,
            "The job's bulk outcomes in input order, paged (as far as it has run)",
            response=bulk_outcome_schema,
            many=True,
            query=OUTCOME_QUERY,
            errors=(*JOB_ERRORS, errors.PaginatedResponseException),
        )
    }

    def get(self, request, job_id):
        params = request.query_params
        check_query_params(params, {q.name for q in OUTCOME_QUERY})
        # the paging parameters are checked before the job is looked up (400 before 404)
        outcomes = JobOutcome.objects.filter(
            job_id=_job_pk(job_id), job__client_id=_client(request)
        )
        if "action" in params:
            actions = params["action"].split(",")
            unknown = [a for a in actions if a not in OUTCOME_ACTIONS]
            if unknown:
                raise errors.SchemaValidationException(
                    fields={"action": [f"Use {', '.join(OUTCOME_ACTIONS)}."]}
                )
            outcomes = outcomes.filter(action__in=actions)
        page = paginate_request(request, outcomes, OUTCOME_SORTS, default_sort="index")
        if not page.rows:
            _own_job(request, job_id)  # 10026 when it is not the client's
        return listing(page, [row.outcome for row in page.rows])


class JobErrorsView(ApiView):
    tag = "Jobs"
    operations = {
        "GET": Operation(
            JOB_SCOPES,
            "The job's failed items as NDJSON text, one a line (as import_catalogue --errors "
            "writes them)",
            response=error_line_schema,
            raw_response="text/plain",
            errors=JOB_ERRORS,
        )
    }

    def get(self, request, job_id):
        job = _own_job(request, job_id)
        return StreamingHttpResponse(error_report(job), content_type="text/plain; charset=utf-8")


def error_report(job: Job) -> Iterator[bytes]:
    """The failed items, a chunk of rows at a time (flat memory for any report)."""
    last = -1
    while True:
        rows = list(
            JobOutcome.objects.filter(job=job, action="error", index__gt=last).order_by("index")[
                :1000
            ]
        )
        if not rows:
            return
        yield b"".join(orjson.dumps(error_line(job, row)) + b"\n" for row in rows)
        last = rows[-1].index


IMPORT_QUERY = (
    QueryParam(
        "entity",
        {"type": "string", "enum": list(services.IMPORT_ROUTES)},
        "What the file holds.",
        required=True,
    ),
    QueryParam(
        "lookupKey",
        {"type": "string", "enum": ["id", "sourceId", "sku", "supplierCode", "code", "slug"]},
        "How records are matched (default sourceId); the entity's bulk keys.",
    ),
    QueryParam(
        "directives",
        {"type": "string", "minLength": 2},
        'Bulk directives for every record, as JSON: {"skipCreate": true}.',
    ),
    QueryParam(
        "format",
        {"type": "string", "enum": ["ndjson", "csv"]},
        "The file's format when it is sent as application/octet-stream (default ndjson); "
        "Content-Type application/x-ndjson or text/csv says it as well.",
    ),
    QueryParam("dryRun", BOOL, "Compute the exact outcomes and write nothing."),
    QueryParam("atomic", BOOL, "All or nothing: any item error writes nothing."),
)


class ImportView(ApiView):
    """``POST /v2/imports``: the body streams to storage (never whole in memory), then a job
    reads it with ``import_catalogue``'s readers. ``Idempotency-Key`` is claimed after the
    body is stored, with the hash taken while streaming it."""

    tag = "Jobs"
    streams_body = True
    operations = {
        "POST": Operation(
            JOB_SCOPES,
            "Import an NDJSON or CSV file (the formats of import_catalogue) as a job",
            response=job_schema,
            status=202,
            query=IMPORT_QUERY,
            # a file body: NDJSON or CSV by Content-Type (application/x-ndjson, text/csv), or
            # application/octet-stream with ?format=, the one media type of the three that
            # client generators take (docs/api-notes/jobs.md)
            raw_request=("application/octet-stream",),
            errors=(
                errors.InvalidLookupKey,
                errors.UnsupportedMediaType,
                errors.PayloadTooLarge,
                errors.SchemaValidationException,
                errors.InsufficientScope,
            ),
        )
    }

    def post(self, request):
        params = request.query_params
        check_query_params(params, {q.name for q in IMPORT_QUERY})
        entity = params.get("entity")
        needed = services.IMPORT_SCOPES.get(entity or "")
        if needed and not has_scope(request, needed):
            raise errors.InsufficientScope(
                f"The token lacks the scope {needed}; importing {entity} needs it.",
                headers={
                    "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="bulk:write {needed}"'
                },
            )
        route, resource, key = services.import_resource(
            entity, params.get("lookupKey"), products_write=has_scope(request, "products:write")
        )
        directives = _directives(params.get("directives"))
        if not int(request.META.get("CONTENT_LENGTH") or 0) and not _chunked(request):
            raise errors.SchemaValidationException(fields={"body": ["The import file is empty."]})
        fmt = services.import_format(request.content_type, params.get("format"))
        name, size, digest = services.store_upload(_body_stream(request._request), fmt)
        try:
            self.idempotency_claim = idempotency.claim(
                request, client_id_var.get(), body_digest=digest
            )
        except BaseException:
            services.discard(name)
            raise
        job = services.submit_import(
            entity=entity or "",
            route=route,
            resource=resource,
            lookup_key=key,
            stored=(name, size),
            fmt=fmt,
            directives=directives,
            dry_run=parse_bool_param(params, "dryRun"),
            atomic=parse_bool_param(params, "atomic"),
            client_id=_client(request),
            request_id=getattr(request, "request_id", ""),
        )
        return accepted(request, job)


def _directives(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.SchemaValidationException(fields={"directives": [f"Not JSON: {exc}"]}) from exc


def _body_stream(request) -> Any:
    """The body as sent: a chunked upload (no Content-Length) is read from the server's input
    when the server ends it (gunicorn's ``wsgi.input_terminated``)."""
    meta = request.META
    if _chunked(request) and not meta.get("CONTENT_LENGTH") and meta.get("wsgi.input_terminated"):
        return meta["wsgi.input"]
    return request


def _chunked(request) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
