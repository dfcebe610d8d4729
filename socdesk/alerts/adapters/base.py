"""What every adapter shares: the normalised alert, the adapter error, settings and small helpers.

Adapters are pure: bytes or a parsed payload plus AdapterSettings in, list[NormalisedAlert] out. They
never touch the database; the ingest engine (socdesk.alerts.ingest) does everything else.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jmespath
from jmespath.exceptions import JMESPathError

from socdesk.core import json_input
from socdesk.core.json_input import UnstorableNumber

SEVERITIES = ("info", "low", "medium", "high", "critical")


class AdapterError(Exception):
    """A payload that cannot be turned into alerts, with a sentence saying what is wrong."""

    def __init__(self, message: str, *, missing: list[str] | None = None, position: str = ""):
        super().__init__(message)
        self.message = message
        self.missing = missing or []
        self.position = position


@dataclass(frozen=True)
class AdapterSettings:
    """The parts of an Integration that change how a payload is read (a plain value, no database)."""

    default_severity: str = "medium"
    severity_map: dict[str, str] = field(default_factory=dict)
    grouping_key: str = ""
    field_map: dict[str, str] = field(default_factory=dict)
    group_by: str = "group"  # alertmanager: "group" (its groupKey) or "fingerprint"


@dataclass
class NormalisedAlert:
    """One alert as the pipeline needs it, whatever tool sent it."""

    title: str
    fingerprint: str
    rule: str = ""  # the detection rule that fired (alertname, rule name, signature...): the metrics' key
    severity: str = "medium"
    description: str = ""
    occurred_at: datetime | None = None
    status: str = "firing"  # firing | resolved
    observables: list[tuple[str, str]] = field(default_factory=list)
    raw: Any = None
    external_id: str = ""
    group_key: str = ""  # alerts with the same group key share one ticket; empty: the fingerprint
    source_url: str = ""  # the alert in the tool that sent it (http/https only; see web_link)
    tags: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dedup_key(self) -> str:
        return self.group_key or self.fingerprint


# --- parsing the body ---------------------------------------------------------------------------


def load_json(body: bytes | str) -> Any:
    """Parse a JSON body; a syntax error becomes an AdapterError naming line and column, a number the
    databases cannot store (NaN, 1e400, a 5000-digit integer) one naming the number."""
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise AdapterError(f"The body is not UTF-8 text (bad byte at offset {exc.start}).") from None
    else:
        text = body
    if not text.strip():
        raise AdapterError("The body is empty; send the alert as JSON.")
    try:
        return json_input.loads(text)
    except json.JSONDecodeError as exc:
        raise AdapterError(
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            position=f"line {exc.lineno}, column {exc.colno}",
        ) from None
    except UnstorableNumber as exc:
        raise AdapterError(exc.message) from None
    except RecursionError:
        raise AdapterError("The body is not valid JSON: it is nested too deeply.") from None


def require_object(payload: Any, what: str = "The body") -> dict:
    if not isinstance(payload, dict):
        raise AdapterError(f"{what} must be a JSON object, not {json_type(payload)}.")
    return payload


def missing_keys(payload: Any, *names: str) -> list[str]:
    """The required top-level keys that are absent (or null/empty) in a JSON object."""
    if not isinstance(payload, dict):
        return list(names)
    return [name for name in names if payload.get(name) in (None, "", [], {})]


def json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


# --- reading values -----------------------------------------------------------------------------


def lookup(obj: Any, path: str, default: Any = None) -> Any:
    """Read `a.b.c` from nested objects or from a flat key "a.b.c" (Kibana sends both forms).

    At each level the longest flat dotted key that exists wins, so {"kibana.alert": {"uuid": 1}},
    {"kibana": {"alert": {"uuid": 1}}} and {"kibana.alert.uuid": 1} all answer "kibana.alert.uuid".
    """
    parts = path.split(".")
    current = obj
    i = 0
    while i < len(parts):
        if not isinstance(current, dict):
            return default
        for j in range(len(parts), i, -1):
            key = ".".join(parts[i:j])
            if key in current:
                current = current[key]
                i = j
                break
        else:
            return default
    return default if current is None else current


def text(value: Any, limit: int = 10_000) -> str:
    """Any JSON value as a trimmed one-line-safe string ('' for null)."""
    if value is None:
        return ""
    if isinstance(value, str):
        result = value
    elif isinstance(value, (dict, list)):
        result = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        result = str(value)
    return result.strip()[:limit]


def first(*values: Any) -> Any:
    """The first value that is not None/empty."""
    for value in values:
        if value not in (None, "", [], {}):
            return value
    return None


SOURCE_URL_MAX = 2000


def web_link(*candidates: Any) -> str:
    """The first candidate that is an absolute http(s) URL, else ''.

    Tools put links to the alert in their payloads (Alertmanager's generatorURL, Kibana's alert URL,
    Splunk's results_link); anything else (a `javascript:` URL, a relative path, a value too long to
    store) is dropped here so the console never renders it as a link.
    """
    for candidate in candidates:
        if not isinstance(candidate, str):
            continue
        url = candidate.strip()
        if not url or len(url) > SOURCE_URL_MAX or any(c.isspace() or ord(c) < 32 for c in url):
            continue
        try:
            parts = urlsplit(url)
        except ValueError:  # a malformed host such as `http://[` is no link either
            continue
        if parts.scheme.lower() in ("http", "https") and parts.netloc:
            return url
    return ""


def digest(*parts: Any) -> str:
    """A stable short fingerprint from several values."""
    joined = "\x1f".join(text(p, 100_000) for p in parts)
    return hashlib.sha256(joined.encode("utf-8", "replace")).hexdigest()[:32]


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (with Z, +0000 or +00:00) or epoch seconds/milliseconds → aware UTC datetime; None if odd."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            seconds = value / 1000 if value > 1e11 else value
            return datetime.fromtimestamp(seconds, tz=UTC)
        raw = str(value).strip()
        if not raw:
            return None
        if raw.isdigit():
            return parse_time(int(raw))
        raw = raw.replace("Z", "+00:00").replace("z", "+00:00")
        # +0000 → +00:00 (Suricata, Wazuh)
        if len(raw) > 5 and raw[-5] in "+-" and raw[-4:].isdigit():
            raw = raw[:-2] + ":" + raw[-2:]
        parsed = datetime.fromisoformat(raw)
    except (ValueError, OverflowError, OSError):
        return None
    if parsed.year < 1971:  # Alertmanager's "0001-01-01T00:00:00Z" means "not set"
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def map_severity(raw: Any, settings: AdapterSettings, table: dict[str, str] | None = None) -> str:
    """The integration's mapping first, then the adapter's table, then the integration default."""
    key = text(raw).lower()
    for mapping in (settings.severity_map, table):
        if not mapping:  # most integrations map nothing
            continue
        lowered = {str(k).lower(): v for k, v in mapping.items()}
        if key in lowered and lowered[key] in SEVERITIES:
            return lowered[key]
    if key in SEVERITIES:
        return key
    return settings.default_severity if settings.default_severity in SEVERITIES else "medium"


def group_key_from(expressions: str, alert_obj: Any) -> str:
    """Evaluate the integration's comma-separated JMESPath grouping expressions on one alert."""
    if not expressions.strip():
        return ""
    values = []
    for expression in expressions.split(","):
        expression = expression.strip()
        if not expression:
            continue
        try:
            values.append(jmespath.search(expression, alert_obj))
        except JMESPathError as exc:
            raise AdapterError(
                f"The grouping key {expression!r} is not a valid JMESPath expression: {exc}"
            ) from None
        except Exception:  # jmespath raises plain errors on odd input types; treat as "no value"
            values.append(None)
    if all(v in (None, "", [], {}) for v in values):
        return ""
    return "group:" + digest(*values)


def apply_grouping(alert: NormalisedAlert, settings: AdapterSettings, alert_obj: Any) -> NormalisedAlert:
    """Replace the adapter's default group key when the integration configures one."""
    configured = group_key_from(settings.grouping_key, alert_obj)
    if configured:
        alert.group_key = configured
    return alert


def clean_observables(pairs) -> list[tuple[str, str]]:
    """Drop empty values and non-strings; keep order, no duplicates (normalisation happens later)."""
    seen: dict[tuple[str, str], None] = {}
    for kind, value in pairs:
        if value is None or isinstance(value, (dict, list, bool)):
            continue
        value = str(value).strip()
        if value and len(value) <= 2048:
            seen.setdefault((kind, value), None)
    return list(seen)
