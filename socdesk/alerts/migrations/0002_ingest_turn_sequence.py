from django.db import migrations

from socdesk.core.models import create_sequence_sql


def create_sequence(apps, schema_editor):
    # PostgreSQL only: ingest loops number their claims from it, so batches are written in claim order.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(create_sequence_sql("ingest_turn"))


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS socdesk_seq_ingest_turn")


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_alerts_deliveries_observables"), ("core", "0001_initial")]
    operations = [migrations.RunPython(create_sequence, drop_sequence)]
