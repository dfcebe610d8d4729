"""`socdesk config export|apply`: the configuration as one YAML document (docs/configuration-as-code.md)."""

from __future__ import annotations

import getpass
import sys
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from socdesk.core.actor import Actor
from socdesk.ops.config.document import ConfigInvalid
from socdesk.ops.config.engine import config_apply, config_export


class Command(BaseCommand):
    help = "Export the configuration as YAML, or apply a YAML file (checked whole first; --dry-run)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        export = sub.add_parser("export", help="Write the configuration as one YAML document.")
        export.add_argument("-o", "--output", help="Write to this file instead of standard output.")
        apply = sub.add_parser("apply", help="Apply a YAML file: create and update what differs (audited).")
        apply.add_argument("file", help="The YAML file, or - for standard input.")
        apply.add_argument("--dry-run", action="store_true", help="Print what would change; write nothing.")
        apply.add_argument(
            "--prune",
            action="store_true",
            help="Also remove the filters, integrations, help topics, SLA plans and schedules that the "
            "file's sections do not name (integrations that brought alerts are disabled).",
        )

    def handle(self, *args, subcommand: str, **opts):
        if subcommand == "export":
            text = config_export()
            if opts["output"]:
                Path(opts["output"]).write_text(text, encoding="utf-8")
                self.stderr.write(f"Wrote the configuration to {opts['output']}.")
            else:
                self.stdout.write(text, ending="")
            return
        self._apply(opts["file"], dry_run=opts["dry_run"], prune=opts["prune"])

    def _apply(self, file: str, *, dry_run: bool, prune: bool) -> None:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}.") from None
        actor = Actor.system(f"cli:config apply ({getpass.getuser()})")
        try:
            changes = config_apply(actor=actor, text=text, dry_run=dry_run, prune=prune)
        except ConfigInvalid as invalid:
            for problem in invalid.problems:
                self.stderr.write(f"{file}: {problem}")
            count = len(invalid.problems)
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''} in {file}; nothing was applied."
            ) from None
        if dry_run:
            self.stdout.write("Dry run: these changes would be made (nothing is written).")
        section = None
        for change in changes:
            if change.kind != section:
                section = change.kind
                self.stdout.write(f"{section}:")
            fields = f" ({', '.join(change.fields)})" if change.fields else ""
            self.stdout.write(f"  {change.outcome:<10} {change.name}{fields}")
        totals = Counter(change.outcome for change in changes)
        outcomes = ["created", "updated", "unchanged"] + (["deleted", "disabled"] if prune else [])
        summary = ", ".join(f"{totals[outcome]} {outcome}" for outcome in outcomes)
        verb = "would be" if dry_run else "were"
        if prune:
            left = (
                f"Departments, roles, teams and the sections the file does not have {verb} left as they are."
            )
        else:
            left = f"Objects not in the file {verb} left as they are (--prune removes them)."
        self.stdout.write(f"{summary}. {left}")
        if dry_run:
            self.stdout.write("Dry run: nothing was applied; run again without --dry-run to apply.")
