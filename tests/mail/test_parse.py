"""parse_message on each message shape SOCdesk meets: bodies, charsets, attachments, replies, bounces."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta, timezone

from socdesk.mail.parse import parse_message
from socdesk.mail.text import reply_part

from . import corpus


def test_multipart_alternative_prefers_the_plain_text_and_sanitises_the_html():
    parsed = parse_message(corpus.alternative())
    assert parsed.message_id == "m1@example.com"
    assert parsed.subject == "Phishing?"
    assert (parsed.from_name, parsed.from_address) == ("Ann Analyst", "ann.analyst@example.com")
    assert parsed.to == ("help@soc.example.com", "second@soc.example.com")
    assert parsed.cc == ()
    assert parsed.date == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert parsed.date.utcoffset() == timedelta(hours=1)
    assert parsed.text == "The plain text."
    assert "<b>HTML</b>" in parsed.html
    assert "script" not in parsed.html and "alert(1)" not in parsed.html
    assert parsed.links == ("https://portal.example.com/login",)
    assert parsed.attachments == () and parsed.inner == () and parsed.bounce is None
    assert parsed.automated == "" and parsed.problems == ()
    assert parsed.raw_size == len(corpus.alternative())


def test_html_only_is_turned_into_text_without_styles_and_the_html_is_sanitised():
    parsed = parse_message(corpus.html_only())
    assert parsed.text == "First paragraph.\n\nSecond & last, link."
    assert "onclick" not in parsed.html
    assert "hxxp" not in parsed.html  # unknown URL schemes are dropped by the sanitiser
    assert parsed.links == ("hxxp://ignored",)  # kept for the observables (refanged there)
    assert parsed.problems == ()


def test_base64_utf8_body():
    parsed = parse_message(corpus.base64_utf8())
    assert b"Content-Transfer-Encoding: base64" in corpus.base64_utf8()
    assert parsed.text == "Grüße aus Köln — 東京"
    assert parsed.problems == ()


def test_iso_8859_1_quoted_printable_body_and_encoded_subject():
    parsed = parse_message(corpus.latin1_qp())
    assert parsed.subject == "Résumé"
    assert parsed.text == "Café crème à 5 EUR?"
    assert parsed.problems == ()


def test_windows_1252_body():
    parsed = parse_message(corpus.windows_1252())
    assert parsed.text == "\u201cQuoted\u201d \u2013 price \u20ac5"
    assert parsed.problems == ()


def test_unknown_charset_is_read_as_utf8_with_replacement_and_said():
    parsed = parse_message(corpus.unknown_charset())
    assert parsed.text == "café and \ufffd\ufffd bytes"
    assert parsed.problems == (
        "A text part declares the unknown charset 'x-no-such-charset'; it was read as UTF-8 "
        "with unreadable characters replaced.",
    )


def test_text_that_is_not_valid_in_its_declared_charset_is_said():
    raw = (
        b"From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nok \xff\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.text == "ok \ufffd"
    assert parsed.problems == ("A text part is not valid utf-8; unreadable characters were replaced.",)


def test_rfc2231_non_ascii_attachment_name_is_decoded_and_path_parts_stripped():
    parsed = parse_message(corpus.rfc2231_attachment())
    assert b"filename*=" in corpus.rfc2231_attachment()
    (attachment,) = parsed.attachments
    assert attachment.filename == "Fäktura 2026 €.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.content == b"%PDF-1.4 invoice"
    assert attachment.size == 16
    assert attachment.sha256 == hashlib.sha256(b"%PDF-1.4 invoice").hexdigest()
    assert attachment.sha1 == hashlib.sha1(b"%PDF-1.4 invoice").hexdigest()
    assert attachment.md5 == hashlib.md5(b"%PDF-1.4 invoice").hexdigest()
    assert (attachment.inline, attachment.content_id) == (False, "")
    assert parsed.text == "See the file."


def test_rfc2047_encoded_attachment_name():
    raw = (
        b"From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n"
        b"--X\r\nContent-Type: text/plain\r\n\r\nhi\r\n--X\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="=?utf-8?q?r=C3=A9sum=C3=A9.docx?="\r\n\r\n'
        b"abc\r\n--X--\r\n"
    )
    (attachment,) = parse_message(raw).attachments
    assert attachment.filename == "résumé.docx"


def test_inline_image_with_content_id():
    parsed = parse_message(corpus.inline_image())
    (image,) = parsed.attachments
    assert image.inline is True
    assert image.content_id == "logo123@example.com"
    assert image.content_type == "image/png"
    assert image.content == b"\x89PNG fake"
    assert 'src="cid:logo123@example.com"' in parsed.html  # the sanitiser keeps cid: for inline images
    assert parsed.text == "Logo below."


def test_forwarded_message_rfc822_with_received_chain_and_authentication_results():
    parsed = parse_message(corpus.forwarded())
    assert parsed.text == "Reporting this one."
    assert parsed.attachments == ()
    (inner,) = parsed.inner
    assert inner.subject == "Verify your account"
    assert inner.from_address == "security@bank-secure.example.com"
    assert inner.reply_to == "collect@drop.example.net"
    assert inner.return_path == "bounce@attacker.example"
    assert inner.received_ips == ("198.51.100.23", "10.1.2.3", "2001:db8::25")
    assert inner.authentication == {"spf": "pass", "dkim": "fail", "dmarc": "none"}
    assert inner.text == "Click hxxps://bank-secure-login[.]com/verify now."
    assert inner.message_id == "phish-1@attacker.example"
    assert parsed.problems == ()


def test_forwarded_message_sent_base64_encoded_is_decoded_and_read():
    # RFC 2046 forbids encoding a message/rfc822 part, but some clients (Python's own email package among
    # them) send it base64: read as sent, the phishing lost its sender, relays and links.
    inner = corpus.forwarded_inner()
    encoded = base64.encodebytes(inner)
    raw = (
        b"From: Ann Analyst <ann.analyst@example.com>\r\nTo: help@soc.example.com\r\n"
        b"Subject: Fwd: Verify your account\r\nMessage-ID: <fwd-enc@example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
        b"Reporting this one.\r\n--b\r\nContent-Type: message/rfc822\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded + b"\r\n--b--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.text == "Reporting this one."
    (found,) = parsed.inner
    assert (found.from_address, found.subject) == ("security@bank-secure.example.com", "Verify your account")
    assert found.received_ips == ("198.51.100.23", "10.1.2.3", "2001:db8::25")
    assert found.text == "Click hxxps://bank-secure-login[.]com/verify now."
    assert parsed.problems == ()


def test_forwarded_message_with_damaged_base64_keeps_the_mail_and_says_so():
    raw = (
        b"From: ann@example.com\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
        b"Look.\r\n--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"@@@\r\n--b--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.text == "Look."
    (found,) = parsed.inner
    assert found.from_address == ""


def test_eml_attachment_is_an_attachment_and_an_inner_message():
    parsed = parse_message(corpus.eml_attachment())
    (attachment,) = parsed.attachments
    assert attachment.filename == "report.eml"
    assert attachment.content is not None and attachment.content.startswith(b"From: attacker@evil-domain.com")
    (inner,) = parsed.inner
    assert (inner.from_address, inner.subject, inner.text) == (
        "attacker@evil-domain.com",
        "Invoice",
        "Pay now.",
    )
    assert inner.received_ips == ("203.0.113.5",)


def test_outlook_reply_keeps_only_the_new_part():
    parsed = parse_message(corpus.outlook_reply())
    assert parsed.reply_text == "Thanks, the host is isolated."
    assert "Please isolate the host." in parsed.text  # the whole body is still there
    assert parsed.in_reply_to == ("reply-1@soc.example.com",)


def test_outlook_original_message_separator():
    assert parse_message(corpus.outlook_original_message()).reply_text == "Done."


def test_gmail_on_wrote_split_over_two_lines():
    parsed = parse_message(corpus.gmail_reply())
    assert parsed.reply_text == "Yes, that was me."
    assert parsed.references == ("a@soc.example.com", "b@soc.example.com")
    assert parsed.in_reply_to == ("b@soc.example.com",)


def test_reply_above_this_line_marker():
    assert parse_message(corpus.marker_reply()).reply_text == "New information here."


def test_quoted_block_at_the_end_is_dropped_from_the_reply():
    assert parse_message(corpus.quoted_at_end()).reply_text == "Fine by me."


def test_reply_part_table():
    cases = [
        ("Just text.", "Just text."),
        (
            "On Mon, 1 Jan 2026, Bob <b@example.com> wrote:\n> all quote",
            "On Mon, 1 Jan 2026, Bob <b@example.com> wrote:\n> all quote",
        ),
        ("> question\nanswer", "> question\nanswer"),  # an inline answer is not cut
        ("Top\n\nFrom: x@example.com\nSent: today\n\nold", "Top"),
        (
            "Top\nFrom: x@example.com is what I saw\n\nstill mine",
            "Top\nFrom: x@example.com is what I saw\n\nstill mine",
        ),
        ("Top\n#### -- REPLY ABOVE THIS LINE -- ####\nold", "Top"),
    ]
    for text, expected in cases:
        assert reply_part(text) == expected, text


def test_dsn_bounce_names_the_original_message():
    parsed = parse_message(corpus.dsn_bounce())
    assert parsed.bounce is not None
    assert parsed.bounce.original_message_id == "notify-42@soc.example.com"
    assert parsed.bounce.recipient == "gone@example.com"
    assert parsed.bounce.status == "5.1.1"
    assert parsed.bounce.action == "failed"
    assert parsed.bounce.diagnostic == "550 5.1.1 <gone@example.com>: Recipient address rejected"
    assert parsed.automated == "It is a delivery status notification (a bounce)."
    assert parsed.text == "Your message could not be delivered."  # the returned message is not the body
    assert parsed.inner == () and parsed.attachments == ()


def test_dsn_returning_only_headers():
    parsed = parse_message(corpus.dsn_headers_only())
    assert parsed.bounce is not None
    assert parsed.bounce.original_message_id == "notify-42@soc.example.com"


def test_auto_reply_bulk_and_mailer_daemon_are_automated():
    assert parse_message(corpus.auto_reply()).automated == (
        "It says it was sent automatically (Auto-Submitted: auto-replied)."
    )
    assert parse_message(corpus.bulk()).automated == "It is bulk or list mail (Precedence: bulk)."
    assert parse_message(corpus.mailer_daemon()).automated == (
        "It comes from a mail server's mailer-daemon address (mailer-daemon@mx.example.com)."
    )
    assert parse_message(corpus.plain()).automated == ""


def test_malformed_headers_are_read_as_far_as_possible_and_said():
    parsed = parse_message(corpus.malformed_headers())
    assert parsed.message_id == "bad@example.com"
    assert parsed.subject.endswith("and abc end")
    assert parsed.from_address == "" and parsed.from_name == ""
    assert parsed.date is None
    assert parsed.text == "Body survives."
    assert parsed.problems == (
        "The message has no sender address (From) that could be read.",
        "The Subject header could not be fully decoded; unreadable characters were replaced.",
        "The Date header ('the day after tomorrow') is not a date; the message has none.",
    )


def test_a_date_without_zone_is_taken_as_utc_and_every_date_is_aware():
    parsed = parse_message(corpus.plain(Date="Mon, 30 Nov 2026 10:00:00 -0000"))
    assert parsed.date == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    parsed = parse_message(b"From: a@example.com\r\nDate: Mon, 30 Nov 2026 10:00:00 +0530\r\n\r\nx")
    assert parsed.date is not None and parsed.date.tzinfo == timezone(timedelta(hours=5, minutes=30))


def test_over_limit_attachment_keeps_name_size_and_hashes_but_no_content():
    raw = corpus.big_attachment(2000)
    parsed = parse_message(raw, max_attachment_bytes=1999)
    (attachment,) = parsed.attachments
    assert attachment.content is None
    assert (attachment.filename, attachment.size) == ("big.zip", 2000)
    assert attachment.sha256 == hashlib.sha256(b"A" * 2000).hexdigest()
    assert attachment.md5 == hashlib.md5(b"A" * 2000).hexdigest()
    at_limit = parse_message(raw, max_attachment_bytes=2000)
    assert at_limit.attachments[0].content == b"A" * 2000


def test_missing_message_id_gets_a_stable_generated_one():
    raw = corpus.without_message_id()
    parsed = parse_message(raw)
    assert parsed.message_id == f"generated-{hashlib.sha256(raw).hexdigest()}@socdesk"
    assert parse_message(raw).message_id == parsed.message_id
    assert parse_message(raw + b"\r\n.").message_id != parsed.message_id


def test_damaged_base64_is_decoded_as_far_as_possible_and_said():
    parsed = parse_message(corpus.broken_base64())
    assert parsed.text == "hello the"
    assert parsed.problems == ("A part's base64 encoding is damaged; it was decoded as far as it could be.",)


def test_missing_boundary_is_said_and_nothing_raises():
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=NOPE\r\n\r\njust text, no parts\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.from_address == "a@example.com"
    assert parsed.text == "just text, no parts"
    assert parsed.attachments == ()
    assert parsed.problems == (
        "A multipart section has no parts (its boundary is missing); it was read as text.",
    )


def test_a_message_cut_short_keeps_what_is_there_and_it_is_said():
    raw = corpus.rfc2231_attachment()
    cut = raw[: raw.index(b"Content-Type: application/pdf")]
    parsed = parse_message(cut)
    assert parsed.text == "See the file."
    assert parsed.problems == (
        "The message ends before its last MIME boundary (it may be cut short); what is there was read.",
    )


def test_a_part_that_fails_to_read_costs_only_that_part(monkeypatch):
    from socdesk.mail import parse

    real = parse._attachment

    def explode(reader, part, data, filename, limit):
        if filename == "report.eml":
            raise ValueError("boom")
        return real(reader, part, data, filename, limit)

    monkeypatch.setattr(parse, "_attachment", explode)
    parsed = parse_message(corpus.eml_attachment())
    assert parsed.text == "Reported as a file."
    assert parsed.attachments == () and parsed.inner == ()
    assert parsed.problems == ("A part of the message could not be read (ValueError); it was left out.",)


def test_empty_and_garbage_input():
    empty = parse_message(b"")
    assert empty.message_id == f"generated-{hashlib.sha256(b'').hexdigest()}@socdesk"
    assert empty.raw_size == 0
    assert "The message is empty." in empty.problems
    garbage = parse_message(b"\x00\xff\xfe\x80 not mail at all")
    assert "\x00" not in garbage.text
    assert garbage.problems == ("The message has no sender address (From) that could be read.",)


def test_addresses_are_lower_cased_and_cc_is_read():
    parsed = parse_message(corpus.plain(Cc="Boss <BOSS@Example.COM>", Reply_To="Other <Other@Example.org>"))
    assert parsed.cc == ("boss@example.com",)
    assert parsed.reply_to == "other@example.org"


def test_unencoded_utf8_headers_are_read_and_bad_header_bytes_are_said():
    parsed = parse_message("From: Jürgen <j@example.com>\r\nSubject: Grüße\r\n\r\nhallo".encode())
    assert (parsed.subject, parsed.from_name, parsed.problems) == ("Grüße", "Jürgen", ())
    parsed = parse_message(b"From: j@example.com\r\nSubject: \xff\xfe bad\r\n\r\nhallo")
    assert parsed.subject == "\ufffd\ufffd bad"
    assert parsed.problems == (
        "The Subject header could not be fully decoded; unreadable characters were replaced.",
    )


def test_parts_nested_too_deep_are_not_read_and_it_is_said():
    depth = 60
    raw = b"From: a@example.com\r\n"
    raw += b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(depth)
    )
    raw += b"Content-Type: text/plain\r\n\r\ndeep\r\n"
    raw += b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    parsed = parse_message(raw)
    assert parsed.text == ""
    assert parsed.problems == ("The message nests too many parts; the deepest ones were not read.",)


def test_when_mime_reading_fails_outright_the_raw_text_is_kept_and_it_is_said(monkeypatch):
    from email.parser import BytesParser

    def explode(self, raw):
        raise RecursionError("too deep")

    monkeypatch.setattr(BytesParser, "parsebytes", explode)
    raw = b"From: a@example.com\r\n\r\nthe body\x00"
    parsed = parse_message(raw)
    assert parsed.problems == (
        "The message could not be read as MIME (RecursionError); its raw text is shown.",
    )
    assert parsed.text == "From: a@example.com\r\n\r\nthe body"
    assert parsed.message_id.startswith("generated-") and parsed.raw_size == len(raw)


def test_a_header_value_seen_before_is_read_once_and_reads_the_same():
    from socdesk.mail import parse

    broken = "=?utf-8?q?caf=C3?= report"  # a cut multi-byte character: a decoding problem
    first = parse_message(corpus.plain("One.\n", subject=broken, Message_ID="<cache-1@example.com>"))
    hits = parse._header_object.cache_info().hits
    second = parse_message(corpus.plain("Two.\n", subject=broken, Message_ID="<cache-2@example.com>"))
    assert parse._header_object.cache_info().hits > hits  # Subject, Content-Type... read from the cache
    assert first.subject == second.subject and "\ufffd" in second.subject
    # The problems a header's value has are said for every message that carries it.
    assert first.problems == second.problems and any("Subject" in p for p in second.problems)
