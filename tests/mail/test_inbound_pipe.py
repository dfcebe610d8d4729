"""`socdesk mail pipe` as a mail server runs it: one message on standard input, one line out, and an exit
code the mail server acts on (sysexits: 0 done, 65 bounce the message, 75 keep it and retry, 70 fault)."""

from __future__ import annotations

import io
import sqlite3
import subprocess

import pytest
from django.core.management import CommandError, call_command

from tests.core.processes import REPO, free_port, run_socdesk, socdesk_argv, socdesk_env
from tests.mail import corpus


def pipe(raw: bytes, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        socdesk_argv("mail", "pipe", *args), input=raw, env=env, cwd=REPO, capture_output=True, timeout=120
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A migrated embedded (SQLite) install with one department, as after `socdesk upgrade`."""
    data = tmp_path_factory.mktemp("pipe-data")
    env = socdesk_env(data)
    assert run_socdesk("upgrade", env=env).returncode == 0
    assert run_socdesk("department", "create", "--name", "SOC", env=env).returncode == 0
    return data, env


def rows(data, sql: str) -> list[tuple]:
    with sqlite3.connect(data / "socdesk.sqlite3") as conn:
        return conn.execute(sql).fetchall()


def test_a_message_becomes_a_ticket_and_the_same_message_again_is_a_duplicate(installed):
    data, env = installed
    raw = corpus.plain("Phish from 203.0.113.7.\n", Message_ID="<pipe-1@example.com>")
    first = pipe(raw, env)
    assert first.returncode == 0, first.stderr
    [(number,)] = rows(data, "SELECT number FROM tickets_ticket WHERE subject = 'Phishing?'")
    assert first.stdout.decode().strip() == f"created {number}"
    again = pipe(raw, env)
    assert (again.returncode, again.stdout.decode().strip()) == (0, "duplicate")
    assert rows(data, "SELECT count(*) FROM tickets_ticket WHERE subject = 'Phishing?'") == [(1,)]

    reply = corpus.plain(
        "More.\n",
        subject="Re: Phishing?",
        Message_ID="<pipe-2@example.com>",
        In_Reply_To="<pipe-1@example.com>",
    )
    added = pipe(reply, env)
    assert (added.returncode, added.stdout.decode().strip()) == (0, f"added to {number}")


def test_a_bounce_of_an_unknown_message_exits_0_and_says_so(installed):
    _, env = installed
    result = pipe(corpus.dsn_bounce(), env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith("bounce dropped")


def test_empty_input_is_a_data_error(installed):
    data, env = installed
    before = rows(data, "SELECT count(*) FROM mail_inboundmessage")
    result = pipe(b"", env)
    assert result.returncode == 65
    assert "The message on standard input is empty" in result.stderr.decode()
    assert rows(data, "SELECT count(*) FROM mail_inboundmessage") == before


def test_an_unknown_department_keeps_the_mail_at_the_mail_server(installed):
    data, env = installed
    before = rows(data, "SELECT count(*) FROM tickets_ticket")
    result = pipe(corpus.plain(Message_ID="<pipe-3@example.com>"), env, "--department", "nope")
    assert result.returncode == 75
    assert "There is no department 'nope'" in result.stderr.decode()
    assert rows(data, "SELECT count(*) FROM tickets_ticket") == before


def test_a_database_that_cannot_be_reached_is_a_temporary_failure(tmp_path):
    env = socdesk_env(tmp_path, DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/nowhere")
    result = pipe(corpus.plain(), env)
    assert result.returncode == 75, result.stderr
    assert "The database cannot be reached" in result.stderr.decode()


def test_a_fault_in_socdesk_is_a_software_error(monkeypatch, db):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("socdesk.mail.management.commands.mail.mail_receive", broken)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(corpus.plain())))
    with pytest.raises(CommandError, match="fault in SOCdesk") as caught:
        call_command("mail", "pipe")
    assert caught.value.returncode == 70


def test_the_pipe_skips_the_system_checks_a_mail_server_would_pay_for_on_every_message():
    """They load every URLconf and API schema (half the pipe's start-up); upgrade and check run them."""
    from socdesk.mail.management.commands.mail import Command

    assert Command.requires_system_checks == []
