"""Fill Ticket.alert_occurrences (new in tickets 0003) from the alerts already stored."""

from django.db import migrations
from django.db.models import OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce


def backfill(apps, schema_editor):
    Alert = apps.get_model("alerts", "Alert")
    Ticket = apps.get_model("tickets", "Ticket")
    total = (
        Alert.objects.filter(ticket_id=OuterRef("pk"))
        .order_by()
        .values("ticket_id")
        .annotate(total=Sum("occurrence_count"))
        .values("total")
    )
    # One statement; tickets without alerts keep 0 (only those with alerts are touched).
    with_alerts = Alert.objects.filter(ticket__isnull=False).values("ticket_id")
    Ticket.objects.filter(pk__in=with_alerts).update(
        alert_occurrences=Coalesce(Subquery(total), Value(0))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0005_alert_source_url"),
        ("tickets", "0003_ticket_alert_occurrences"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
