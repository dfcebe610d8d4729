"""PostgreSQL: an index on the severity rank, so a queue sorted by severity reads its first page off it.

Without it the severity sort (socdesk/tickets/sorting.py) is a top-N sort over the whole filtered
queue: 250-490 ms at 300,000 tickets, against about 10 ms with it. The expression must stay identical
to the one the sort orders by (socdesk.tickets.models.severity_rank, with literals as the driver sends
them); tests/tickets/test_sorting.py checks that PostgreSQL uses it. SQLite gets no such index: the
values it would compare arrive as bound parameters there, so it could not match an expression index.
"""

from django.db import migrations

# Frozen here: a migration must not change when the code's severities do.
RANK = (
    "(CASE WHEN severity = 'info' THEN 0 WHEN severity = 'low' THEN 1 WHEN severity = 'medium' THEN 2 "
    "WHEN severity = 'high' THEN 3 WHEN severity = 'critical' THEN 4 ELSE -1 END)"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS ticket_severity_rank_idx ON tickets_ticket "
            f"({RANK} DESC, last_activity_at DESC, id DESC)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS ticket_severity_rank_idx")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_ticket_number_sequence")]
    operations = [migrations.RunPython(create_index, drop_index)]
