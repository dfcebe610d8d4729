"""`socdesk mail pipe --queue`: the pipe stores the message in the mail spool without loading Django and
exits; the worker imports it (socdesk.mail.spool, socdesk.mail.spool_drain)."""

from __future__ import annotations

import os
import shlex
import subprocess
import time

import pytest
from django.core.management import call_command
from django.db import OperationalError

from socdesk.accounts.models import Department
from socdesk.mail import inbound
from socdesk.mail.models import InboundMessage
from socdesk.mail.spool import spool_root, spool_write
from socdesk.mail.spool_drain import (
    spool_claim,
    spool_counts,
    spool_drain,
    spool_requeue_stale,
    spool_retry,
)
from socdesk.tickets.models import Ticket
from tests.core.processes import REPO, Background, run_socdesk, socdesk_argv, socdesk_env
from tests.mail import corpus


def queue_pipe(raw: bytes, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        socdesk_argv("mail", "pipe", "--queue", *args),
        input=raw,
        env=env,
        cwd=REPO,
        capture_output=True,
        timeout=60,
    )


def files(base, state: str) -> list[str]:
    return sorted(os.listdir(base / "mail-spool" / state))


def test_the_queued_pipe_stores_the_message_without_loading_django(tmp_path):
    # Settings that cannot be imported: the pipe must not need them (it runs before Django is set up).
    env = socdesk_env(tmp_path, DJANGO_SETTINGS_MODULE="no.such.settings")
    raw = corpus.plain("Phish.\n", Message_ID="<queued-1@example.com>")
    result = queue_pipe(raw, env, "--department", "soc")
    assert result.returncode == 0, result.stderr
    [name] = files(tmp_path, "new")
    assert name.endswith("~soc.eml") and result.stdout.decode().strip() == f"queued {name}"
    assert (tmp_path / "mail-spool" / "new" / name).read_bytes() == raw
    assert files(tmp_path, "tmp") == []


@pytest.mark.parametrize(
    ("raw", "args", "code", "says"),
    [
        (b"  \n", (), 65, "The message on standard input is empty"),
        (b"Subject: x\n\nx\n", ("--department", "../etc"), 64, "is not a department slug"),
        (b"Subject: x\n\nx\n", ("--frobnicate",), 64, "unknown argument"),
    ],
)
def test_bad_input_to_the_queued_pipe_is_refused_and_nothing_is_stored(tmp_path, raw, args, code, says):
    result = queue_pipe(raw, socdesk_env(tmp_path), *args)
    assert result.returncode == code
    assert says in result.stderr.decode()
    assert not (tmp_path / "mail-spool").exists() or files(tmp_path, "new") == []


def test_a_spool_that_cannot_be_written_is_a_temporary_failure(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data dir should be")
    result = queue_pipe(corpus.plain(), socdesk_env(blocker))
    assert result.returncode == 75
    assert "will deliver it again" in result.stderr.decode()


def test_the_drain_imports_each_message_once_in_its_department(people, tmp_path):
    other = Department.objects.create(name="Fraud", slug="fraud")
    spool_write(corpus.plain("Phish.\n", Message_ID="<sp-1@example.com>"), base=tmp_path)
    spool_write(corpus.plain("Again.\n", Message_ID="<sp-1@example.com>"), base=tmp_path)
    spool_write(
        corpus.plain("Card fraud.\n", subject="Card", Message_ID="<sp-2@example.com>"), "fraud", base=tmp_path
    )
    report = spool_drain(base=tmp_path)
    assert report.outcomes == {"created": 2, "duplicate": 1}
    assert Ticket.objects.get(subject="Card").department == other
    assert InboundMessage.objects.filter(channel="pipe").count() == 2
    assert spool_counts(base=tmp_path) == {"new": 0, "cur": 0, "refused": 0, "failed": 0}
    assert spool_drain(base=tmp_path).outcomes == {}


def test_an_unknown_department_keeps_the_message_waiting(people, tmp_path):
    spool_write(corpus.plain(Message_ID="<sp-3@example.com>"), "nope", base=tmp_path)
    report = spool_drain(base=tmp_path)
    assert report.outcomes == {"waiting": 1} and not Ticket.objects.exists()
    assert len(files(tmp_path, "new")) == 1 and files(tmp_path, "cur") == []


def test_a_message_a_filter_refuses_is_kept_in_refused_and_can_be_retried(people, tmp_path):
    from socdesk.routing.services.filters import filter_delete
    from tests.routing.test_apply import SETUP, make_filter

    rule = make_filter("No newsletters", [("subject", "contains", "newsletter")], ["reject"])
    newsletter = corpus.plain("Buy.\n", subject="Weekly newsletter", Message_ID="<sp-4@example.com>")
    spool_write(newsletter, base=tmp_path)
    assert spool_drain(base=tmp_path).outcomes == {"refused": 1}
    assert not Ticket.objects.exists() and len(files(tmp_path, "refused")) == 1
    filter_delete(actor=SETUP, rule=rule)
    assert spool_retry(base=tmp_path) == 1
    assert spool_drain(base=tmp_path).outcomes == {"created": 1}


def test_a_fault_keeps_the_message_in_failed(people, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("socdesk.mail.inbound._receive", broken)
    spool_write(corpus.plain(Message_ID="<sp-5@example.com>"), base=tmp_path)
    assert spool_drain(base=tmp_path).outcomes == {"failed": 1}
    assert len(files(tmp_path, "failed")) == 1 and not InboundMessage.objects.exists()


def test_two_claimants_never_take_the_same_message_and_a_dead_ones_are_put_back(tmp_path):
    for n in range(6):
        spool_write(corpus.plain(Message_ID=f"<sp-c{n}@example.com>"), base=tmp_path)
    root = spool_root(tmp_path)
    first, second = spool_claim(root, 4), spool_claim(root, 4)
    assert (len(first), len(second)) == (4, 2)
    assert not {p.name for p in first} & {p.name for p in second}
    assert spool_requeue_stale(root) == 0  # just claimed
    old = time.time() - 3600
    os.utime(first[0], (old, old))
    assert spool_requeue_stale(root) == 1
    assert files(tmp_path, "new") == [first[0].name]


def test_the_spool_command_shows_retries_and_drains(people, settings, tmp_path, capsys):
    settings.DATA_DIR = tmp_path
    spool_write(corpus.plain(Message_ID="<sp-6@example.com>"), base=tmp_path)
    call_command("mail", "spool", "--drain")
    out = capsys.readouterr().out
    assert "imported 1 spooled message(s)." in out
    assert "mail spool: 0 waiting, 0 being imported, 0 refused by a ticket filter, 0 failed" in out
    assert Ticket.objects.count() == 1


def test_a_running_worker_imports_what_the_queued_pipe_stores(tmp_path):
    env = socdesk_env(tmp_path)
    assert run_socdesk("upgrade", env=env).returncode == 0
    assert run_socdesk("department", "create", "--name", "SOC", env=env).returncode == 0
    worker = Background("worker", env=env, log=tmp_path / "worker.log")
    try:
        result = queue_pipe(corpus.plain("Phish.\n", Message_ID="<sp-w@example.com>"), env)
        assert result.returncode == 0, result.stderr
        worker.wait_for(
            lambda: "imported 1 spooled e-mail(s)" in worker.output, "the worker imported the spooled mail"
        )
        listed = run_socdesk("mail", "spool", env=env)
        assert "mail spool: 0 waiting" in listed.stdout, listed.stdout + listed.stderr
    finally:
        worker.kill()


def test_the_pipe_command_spools_without_the_site_packages(tmp_path):
    env = socdesk_env(tmp_path)
    line = run_socdesk("mail", "spool", "--pipe-command", "--department", "soc", env=env).stdout.strip()
    pipe_env = env | {"DJANGO_SETTINGS_MODULE": "no.such.settings"}  # the pipe must not need them
    argv = shlex.split(line)
    assert argv[1:3] == ["-I", "-S"] and argv[-2:] == ["--department", "soc"]
    raw = corpus.plain("Phish.\n", Message_ID="<fast-1@example.com>")
    # PYTHONPATH is ignored (-I) and site-packages are not read (-S): the spool needs neither.
    result = subprocess.run(argv, input=raw, env=pipe_env, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    [name] = files(tmp_path, "new")
    assert name.endswith("~soc.eml") and (tmp_path / "mail-spool" / "new" / name).read_bytes() == raw
    refused = run_socdesk("mail", "spool", "--pipe-command", "--department", "../etc", env=env)
    assert refused.returncode == 64 and "is not a department slug" in refused.stderr


def test_a_drain_imports_a_batch_and_a_faulty_message_alone_goes_to_failed(people, tmp_path, monkeypatch):
    real = inbound._receive

    def faulty(raw, *args):
        if b"Breaks" in raw:
            raise RuntimeError("boom")
        return real(raw, *args)

    monkeypatch.setattr(inbound, "_receive", faulty)
    for n in range(5):
        spool_write(corpus.plain(Message_ID=f"<sp-b{n}@example.com>", subject=f"Batch {n}"), base=tmp_path)
    spool_write(corpus.plain(Message_ID="<sp-b9@example.com>", subject="Breaks"), base=tmp_path)
    report = spool_drain(base=tmp_path)
    assert report.outcomes == {"created": 5, "failed": 1}
    assert InboundMessage.objects.count() == 5 and len(files(tmp_path, "failed")) == 1
    assert files(tmp_path, "new") == [] and files(tmp_path, "cur") == []


@pytest.mark.django_db(transaction=True)
def test_a_drain_that_loses_the_database_puts_the_whole_batch_back(people, tmp_path, monkeypatch):
    real = inbound._receive

    def database_gone(raw, *args):
        if b"Second" in raw:
            raise OperationalError("server closed the connection unexpectedly")
        return real(raw, *args)

    monkeypatch.setattr(inbound, "_receive", database_gone)
    spool_write(corpus.plain(Message_ID="<sp-d1@example.com>", subject="First"), base=tmp_path)
    spool_write(corpus.plain(Message_ID="<sp-d2@example.com>", subject="Second"), base=tmp_path)
    assert spool_drain(base=tmp_path).outcomes == {"waiting": 2}
    assert not InboundMessage.objects.exists() and len(files(tmp_path, "new")) == 2


def test_a_drain_claims_a_batch_at_a_time_leaving_the_rest_to_other_workers(people, tmp_path, monkeypatch):
    from socdesk.mail import spool_drain as drain_module
    from socdesk.mail.spool_drain import BATCH

    for n in range(BATCH + 5):
        spool_write(
            corpus.plain(Message_ID=f"<sp-share{n}@example.com>", subject=f"Share {n}"), base=tmp_path
        )
    real = drain_module.mail_receive_many
    waiting_while_importing: list[int] = []

    def counting(raws, **kwargs):
        waiting_while_importing.append(len(files(tmp_path, "new")))
        return real(raws, **kwargs)

    monkeypatch.setattr(drain_module, "mail_receive_many", counting)
    report = spool_drain(base=tmp_path)
    # While the first batch was imported, the next messages were still there for another worker to claim.
    assert waiting_while_importing == [5, 0]
    assert report.outcomes == {"created": BATCH + 5}
    assert InboundMessage.objects.count() == BATCH + 5
    assert files(tmp_path, "new") == [] and files(tmp_path, "cur") == []
