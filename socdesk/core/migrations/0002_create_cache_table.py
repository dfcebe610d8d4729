"""Create the database cache table used by the default (non-Redis) cache.

Sign-in throttling and ticket presence live in the cache; without this table the embedded default
would fail on the first sign-in. `createcachetable` is idempotent and does nothing for Redis.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
