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


def check_files(files: list[IncomingFile]) -> None:
    """Refuse, before anything is written, a file over the configured size limit."""
    limit = settings.ATTACHMENT_MAX_BYTES
    for f in files:
        if len(f.content) > limit:
            raise ServiceError(
                f"The file {f.name!r} is {len(f.content):,} bytes; the limit is {limit:,} bytes.",
                fields={"attachments": "too_large"},
            )


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
