from django.db import migrations

# The audit table is append-only. The one UPDATE allowed is the sealer filling in the chain columns of
# an event that has none yet, leaving its content hash alone; everything else is refused by the database.
POSTGRES_UP = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit events are append-only: DELETE refused';
    END IF;
    IF OLD.seq IS NOT NULL OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
       OR NEW.occurred_at IS DISTINCT FROM OLD.occurred_at OR NEW.action IS DISTINCT FROM OLD.action
       OR NEW.actor_label IS DISTINCT FROM OLD.actor_label OR NEW.target_id IS DISTINCT FROM OLD.target_id THEN
        RAISE EXCEPTION 'audit events are append-only: UPDATE refused';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_no_delete ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_append_only();
"""
# SQLite (the single-user embedded default) gets the UPDATE guard only: Django's test flush empties
# tables with DELETE there, and a DELETE guard would make the suite unable to reset the database.
SQLITE_UP = [
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
       WHEN OLD.seq IS NOT NULL OR NEW.content_hash IS NOT OLD.content_hash
         OR NEW.occurred_at IS NOT OLD.occurred_at OR NEW.action IS NOT OLD.action
         OR NEW.actor_label IS NOT OLD.actor_label OR NEW.target_id IS NOT OLD.target_id
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS audit_event_no_update"]


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif vendor == "sqlite":
        for sql in SQLITE_UP:
            schema_editor.execute(sql)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif vendor == "sqlite":
        for sql in SQLITE_DOWN:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
