"""One structured log line per request, and the request id that ties it to the event rows.

The middleware takes a well-formed incoming `X-Request-ID` (from nginx or a client) or makes one,
returns it in the response header, and keeps it in a context variable while the request runs:
`event_record` and `event_bulk_record` write it into every event row, and jobs started by the
request carry it in their params, so the worker's events carry it too. A complaint is traced
from the log line (or the header the user's browser saw) to the rows that changed.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from contextlib import contextmanager

from django.utils import timezone

from yibao.core.idnumber import mask_id_numbers_in

HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,63}$")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("yibao_request_id", default="")

logger = logging.getLogger("yibao.request")


def request_id_get() -> str:
    """The id of the request (or of the request that started the job) now running, or ''."""
    return _current.get()


@contextmanager
def request_id_bound(request_id: str):
    """Run a block under a request id (the worker uses it for a job's request)."""
    token = _current.set(request_id or "")
    try:
        yield
    finally:
        _current.reset(token)


def request_id_from(value: str | None) -> str:
    """The incoming id when it is well formed (8–64 letters, digits, . _ : -), else a new one."""
    if value and _WELL_FORMED.match(value):
        return value
    return uuid.uuid4().hex


def _who(request) -> tuple[str, str]:
    try:  # the lazy user reads the session: with the database down, the line is still written
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return "", ""
        return user.get_username(), getattr(user, "role", "") or ""
    except Exception:
        return "", ""


class RequestLogMiddleware:
    """Outermost middleware: it times the whole request and sees the final status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(HEADER))
        request.request_id = request_id
        started = time.perf_counter()
        token = _current.set(request_id)
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response[HEADER] = request_id
            return response
        finally:
            _current.reset(token)
            user, role = _who(request)
            logger.info(json.dumps({
                "ts": timezone.now().isoformat(timespec="milliseconds"),
                "request_id": request_id,
                "user": user,
                "role": role,
                "method": request.method,
                "path": mask_id_numbers_in(request.path),  # no query string: searches hold names and IDs
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            }, ensure_ascii=False))
