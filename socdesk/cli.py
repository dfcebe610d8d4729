"""The `socdesk` console script: Django's manage.py with SOCdesk's settings."""

import os
import sys


def main() -> None:
    """Run a management command (`socdesk migrate`, `socdesk serve`, `socdesk audit verify`, ...)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socdesk.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
