from django.db import migrations

from socdesk.core.models import create_sequence_sql


def create_sequence(apps, schema_editor):
    # PostgreSQL numbers tickets from a real sequence (no row lock); SQLite uses the counter table.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(create_sequence_sql("ticket_number", 1001))


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS socdesk_seq_ticket_number")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial"), ("core", "0001_initial")]
    operations = [migrations.RunPython(create_sequence, drop_sequence)]
