from django.db import migrations

# Room left in each page of the delivery table so that a claim (claimed_at, claim_token, attempts: no
# indexed column) writes its new row version beside the old one as a heap-only tuple, with no index
# entries at all. PostgreSQL only; it applies to pages written from now on.
FILLFACTOR = 50


def leave_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE alerts_webhookdelivery SET (fillfactor = {FILLFACTOR})")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE alerts_webhookdelivery RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("alerts", "0011_delivery_claim_token_unindexed")]
    operations = [migrations.RunPython(leave_room, fill_pages)]
