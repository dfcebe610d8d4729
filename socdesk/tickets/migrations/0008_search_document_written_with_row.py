from django.db import migrations


def document_written_with_row(apps, schema_editor):
    # The tsvector was a generated column; it is now written with the row (search/sql/postgresql.py),
    # which keeps every value already indexed (PostgreSQL 13+). SQLite's FTS5 table is unchanged.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tickets_ticketsearch ALTER COLUMN document DROP EXPRESSION IF EXISTS")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0007_merge_ticket_search"),
    ]

    operations = [
        migrations.RunPython(document_written_with_row, migrations.RunPython.noop),
    ]
