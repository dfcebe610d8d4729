"""The start of an import process of a long IMAP fetch (socdesk.mail.fetching).

Kept apart from the fetching module: a spawned process loads its initializer before Django is set up, and
the fetching module imports models.
"""

from __future__ import annotations


def import_process_start(database_name: str) -> None:
    """Set up Django in a new import process, on the database the fetching process uses (under the tests,
    the test database, which the settings do not name)."""
    import django

    django.setup()
    from django.db import connections

    connections["default"].settings_dict["NAME"] = database_name
