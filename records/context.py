"""Per-request context (request id, client id) shared by the envelope, errors and log lines."""

from __future__ import annotations

import contextvars

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
client_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("client_id", default="")
