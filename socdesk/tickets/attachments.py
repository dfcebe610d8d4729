"""Storing files that arrive with thread entries: size limit, SHA-256, sniffed type."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from socdesk.core.errors import ServiceError
from socdesk.tickets.models import Attachment, ThreadEntry


@dataclass(frozen=True)
class IncomingFile:
    """A file as received from any channel: the sender's name for it and its bytes."""

    name: str
    content: bytes


def sniff_content_type(data: bytes) -> str:
    """The type read from the bytes; the sender's claim is never trusted."""
    kind = filetype.guess(data[:8192])
    if kind:
        return kind.mime
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def file_too_large(name: str, size: int) -> ServiceError | None:
    """The refusal of a file over the configured size limit (None: it fits); lets a channel refuse an
    upload by its announced size before reading it."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if size <= limit:
        return None
    return ServiceError(
        f"The file {name!r} is {size:,} bytes; the limit is {limit:,} bytes.",
        fields={"attachments": "too_large"},
    )


def check_files(files: list[IncomingFile]) -> None:
    """Refuse, before anything is written, a file over the configured size limit."""
    for f in files:
        refusal = file_too_large(f.name, len(f.content))
        if refusal is not None:
            raise refusal


def store_files(entry: ThreadEntry, files: list[IncomingFile]) -> list[Attachment]:
    """Save files content-addressed (identical bytes are stored once) and link them to the entry."""
    stored = []
    for f in files:
        digest = hashlib.sha256(f.content).hexdigest()
        path = f"{digest[:2]}/{digest}"
        if not default_storage.exists(path):
            default_storage.save(path, ContentFile(f.content))
        name = (f.name or "attachment").replace("/", "_").replace("\\", "_").strip()[:255] or "attachment"
        stored.append(
            Attachment.objects.create(
                entry=entry,
                file=path,
                filename=name,
                size=len(f.content),
                sha256=digest,
                content_type=sniff_content_type(f.content),
            )
        )
    return stored
