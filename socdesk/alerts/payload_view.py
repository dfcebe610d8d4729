"""An alert's stored payload as text a person can read on the ticket page: pure, no database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Past this many characters the page shows the start and offers the full payload as a download:
# a Wazuh or Kibana document can carry hundreds of kilobytes of log lines.
PAYLOAD_PAGE_LIMIT = 64 * 1024


@dataclass(frozen=True)
class PayloadText:
    """The text to show, whether it was cut, and the full length in characters."""

    text: str
    truncated: bool
    size: int
    is_json: bool


def payload_text(payload: Any, limit: int = PAYLOAD_PAGE_LIMIT) -> PayloadText:
    """Pretty-printed JSON (keys in the tool's order), or the text itself when a tool sent a string."""
    if isinstance(payload, str):
        full, is_json = payload, False
    else:
        full, is_json = json.dumps(payload, indent=2, ensure_ascii=False), True
    return PayloadText(text=full[:limit], truncated=len(full) > limit, size=len(full), is_json=is_json)


def payload_download(payload: Any) -> tuple[bytes, str, str]:
    """(body, content type, file extension) of the full payload for a download."""
    if isinstance(payload, str):
        return payload.encode("utf-8"), "text/plain; charset=utf-8", "txt"
    return json.dumps(payload, indent=2, ensure_ascii=False).encode("utf-8"), "application/json", "json"
