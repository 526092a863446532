from django.db import connection

TOKEN_TABLE = "oauth2_provider_accesstoken"


class QueryCountMiddleware:
    """Adds ``X-Query-Count``: the SQL statements a request ran (deterministic, unlike time),
    not counting the access-token lookup (one per authenticated request), which is reported apart
    in ``X-Auth-Query-Count``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counts = {"work": 0, "auth": 0}

        def counter(execute, sql, params, many, context):
            counts["auth" if TOKEN_TABLE in sql else "work"] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Query-Count"] = str(counts["work"])
        response["X-Auth-Query-Count"] = str(counts["auth"])
        return response
