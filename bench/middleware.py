from django.db import connection

TOKEN_TABLE = "oauth2_provider_accesstoken"
#: a write's webhook trigger asks whether any subscription is active, cached per process for
#: two seconds (webhooks.dispatch.any_active): whether a request pays it depends on timing and on
#: which worker answers, so it is reported apart too, or the statement counts would be flaky
PROBE_TABLE = "webhooks_subscription"


class QueryCountMiddleware:
    """Adds ``X-Query-Count``: the SQL statements a request ran (deterministic, unlike time),
    not counting the access-token lookup (one per authenticated request), which is reported apart
    in ``X-Auth-Query-Count``, nor the webhook trigger's probe (``X-Probe-Query-Count``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counts = {"work": 0, "auth": 0, "probe": 0}

        def counter(execute, sql, params, many, context):
            kind = "auth" if TOKEN_TABLE in sql else "probe" if PROBE_TABLE in sql else "work"
            counts[kind] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Query-Count"] = str(counts["work"])
        response["X-Auth-Query-Count"] = str(counts["auth"])
        response["X-Probe-Query-Count"] = str(counts["probe"])
        return response
