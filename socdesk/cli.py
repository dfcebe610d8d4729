"""The `socdesk` console script: Django's manage.py with SOCdesk's settings."""

import os
import sys

# Commands that only start, watch and stop other processes. Run without django.setup() (no apps,
# models, admin or URLs imported), the process that stays alive beside the web server and the worker
# for as long as they run holds little more than the interpreter and the settings.
SUPERVISORS = {"run", "serve"}
# Long-running commands, started many times over by `run` and `serve`, kept free of unused clients.
LONG_RUNNING = {"worker", "ingest"}


def main() -> None:
    """Run a management command (`socdesk migrate`, `socdesk serve`, `socdesk audit verify`, ...)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socdesk.settings")
    if sys.argv[1:3] == ["mail", "pipe"] and "--queue" in sys.argv[3:] and "--help" not in sys.argv:
        # A mail server starts one of these per message: store it for the worker without loading Django.
        from socdesk.mail.spool import pipe_queue_main

        sys.exit(pipe_queue_main(sys.argv[3:]))
    if len(sys.argv) > 1 and sys.argv[1] in SUPERVISORS:
        from django.core.management import load_command_class

        load_command_class("socdesk.core", sys.argv[1]).run_from_argv(sys.argv)
        return
    if len(sys.argv) > 1 and sys.argv[1] in LONG_RUNNING:
        from socdesk.core.clients import skip_unconfigured_clients

        skip_unconfigured_clients()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
