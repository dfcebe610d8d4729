from django.db import migrations

# Retention may delete the oldest audit events, and only those: a transaction that has recorded an
# `audit.purged` checkpoint sets `socdesk.audit_purge_through_seq` (transaction-local) and may then delete
# sealed events up to that sequence number. Any other DELETE is still refused; UPDATE rules are unchanged.
POSTGRES_UP = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.seq IS NOT NULL AND OLD.seq <= coalesce(
               nullif(current_setting('socdesk.audit_purge_through_seq', true), '')::bigint, 0) THEN
            RETURN OLD;
        END IF;
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
"""
# The function as 0002 installed it (DELETE always refused).
POSTGRES_DOWN = """
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
"""


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(up, down)]
