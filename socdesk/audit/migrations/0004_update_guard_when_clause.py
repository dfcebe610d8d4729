from django.db import migrations

# The UPDATE guard's condition moves into the trigger's WHEN clause (as SQLite's already is): the
# sealer's updates, which all pass it, no longer start a PL/pgSQL call per event. Only an update the
# function would refuse calls it, and it refuses it as before (same condition, same message).
CONDITION = """OLD.seq IS NOT NULL OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
       OR NEW.occurred_at IS DISTINCT FROM OLD.occurred_at OR NEW.action IS DISTINCT FROM OLD.action
       OR NEW.actor_label IS DISTINCT FROM OLD.actor_label OR NEW.target_id IS DISTINCT FROM OLD.target_id"""
POSTGRES_UP = f"""
DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    FOR EACH ROW WHEN ({CONDITION}) EXECUTE FUNCTION audit_event_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_audit_purge_through_checkpoint")]
    operations = [migrations.RunPython(up, down)]
