"""Request bodies sent with `Transfer-Encoding: chunked` (no Content-Length), read within the size limit.

Django reads exactly CONTENT_LENGTH bytes of a WSGI body, and a streamed (chunked) request has no
Content-Length: granian passes the de-chunked stream with the header absent, so Django saw an empty
body and tools that stream (curl -T -, Go and Java HTTP clients, Fluent Bit) could not deliver. Here
such a body is read from the server's stream in pieces, never more than the limit plus one byte, and
handed to Django as if it had come with a Content-Length: every view then reads it as usual.

A body over DATA_UPLOAD_MAX_MEMORY_SIZE is not kept: Content-Length is set to one byte more than the
limit and nothing to `request.body`, so each entry point answers its usual 413 in its own format
(JSON for the API and webhooks, text for the osTicket API) without the rest being read.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

from django.conf import settings
from django.http import HttpRequest, HttpResponse

PIECE = 64 * 1024  # bytes read from the server's stream at a time


def is_streamed(request: HttpRequest) -> bool:
    """A request whose body is chunked: Transfer-Encoding overrides any Content-Length (RFC 9112 6.3)."""
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def read_streamed_body(request: HttpRequest) -> None:
    """Read a chunked request's body (up to the limit) so that Django sees it with a Content-Length."""
    if not is_streamed(request) or hasattr(request, "_body"):
        return
    stream = request.META.get("wsgi.input")
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    pieces: list[bytes] = []
    size = 0
    while stream is not None:
        want = PIECE if limit is None else min(PIECE, limit + 1 - size)
        piece = stream.read(want)
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
        if limit is not None and size > limit:
            # Over the limit: keep nothing, and let Django's own check refuse it (RequestDataTooBig).
            request.META["CONTENT_LENGTH"] = str(limit + 1)
            request.META.pop("HTTP_TRANSFER_ENCODING", None)
            return
    body = b"".join(pieces)
    request.META["CONTENT_LENGTH"] = str(len(body))
    request.META.pop("HTTP_TRANSFER_ENCODING", None)
    # Django's request reads `_body` if set and parses forms (multipart included) from it.
    request._body = body
    request._stream = BytesIO(body)


class StreamedBodyMiddleware:
    """Django middleware: chunked request bodies are read (within the limit) before any view runs.

    The machine fast path (socdesk.api.fastpath) calls read_streamed_body itself, so webhooks and the
    osTicket API behave the same whichever way a request reaches them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        read_streamed_body(request)
        return self.get_response(request)
