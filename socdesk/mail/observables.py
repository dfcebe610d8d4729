"""The observables an email carries (pure): what its text names, its attachments, its forwarded messages.

The text is searched with the alerts app's finder (`socdesk.alerts.observables.extract`: ioc-finder,
refanged, normalised), so a URL found in a mail is the same observable as that URL in an alert.
"""

from __future__ import annotations

from socdesk.alerts.observables import extract
from socdesk.mail.parse import ParsedMessage


def message_observables(parsed: ParsedMessage) -> list[tuple[str, str]]:
    """(type, value) pairs, normalised and de-duplicated: the URLs, domains, IPs and e-mail addresses in
    the body and in the links of its HTML; each attachment's SHA-256, SHA-1, MD5 and file name; and for
    each forwarded message its From, Reply-To, Return-Path, Received IPs, text and links.
    """
    fields: list[tuple[str, str]] = [("url", link) for link in parsed.links]
    for attachment in parsed.attachments:
        fields += [("sha256", attachment.sha256), ("sha1", attachment.sha1), ("md5", attachment.md5)]
        if attachment.filename:
            fields.append(("filename", attachment.filename))
    texts = [parsed.text]
    for inner in parsed.inner:
        fields += [("email", inner.from_address), ("email", inner.reply_to), ("email", inner.return_path)]
        fields += [("ip", ip) for ip in inner.received_ips]
        fields += [("url", link) for link in inner.links]
        texts.append(inner.text)
    found = extract([(kind, value) for kind, value in fields if value], "\n\n".join(t for t in texts if t))
    return found
