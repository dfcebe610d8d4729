"""SQLite's side of socdesk.core.sql: IMMEDIATE transactions serialise writers already; locks are no-ops."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import F, Q
from django.db.models.functions import Length

from socdesk.core.sql.values import column_fields, update_from_values

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model

    from socdesk.core.sql import QuerySetT


class SQLite:
    """See socdesk.core.sql for what each method promises."""

    def insert_new(self, connection: BaseDatabaseWrapper, objects: Sequence[Model]) -> None:
        type(objects[0])._default_manager.bulk_create(objects)

    def copy_rows(
        self,
        connection: BaseDatabaseWrapper,
        model: type[Model],
        names: list[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        model._default_manager.bulk_create([model(**dict(zip(names, row, strict=True))) for row in rows])

    def bulk_set(
        self, connection: BaseDatabaseWrapper, objects: Sequence[Model], fields: list[str], batch: int
    ) -> None:
        meta = type(objects[0])._meta
        columns = column_fields(meta, fields)
        # No CASTs: SQLite's would turn a datetime's text into a number; its columns take values as sent.
        update_from_values(connection, objects, columns, ["%s"] * (len(columns) + 1), batch)

    def next_counter_values(
        self, connection: BaseDatabaseWrapper, name: str, count: int, start: int
    ) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_counter (name, value) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET value = value + %s RETURNING value",
                [name, start + count - 1, count],
            )
            last: int = cursor.fetchone()[0]
        return list(range(last - count + 1, last + 1))

    def reserve(
        self,
        connection: BaseDatabaseWrapper,
        ids: Mapping[type[Model], int],
        counters: Mapping[str, tuple[int, int]],
    ) -> dict[str, list[int]]:
        return {}  # ids come back from the insert itself; counters cost one upsert each anyway

    def id_in(self, column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
        return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)

    def skip_commit_flush(self, connection: BaseDatabaseWrapper) -> None:
        return None  # synchronous=NORMAL in WAL mode already commits without a flush

    def for_update(self, queryset: QuerySetT) -> QuerySetT:
        return queryset

    def lock(self, connection: BaseDatabaseWrapper, key: int, key2: int | None, *, shared: bool) -> None:
        return None

    def try_lock(self, connection: BaseDatabaseWrapper, key: int) -> bool:
        return True

    def hold(self, connection: BaseDatabaseWrapper, key: int, key2: int) -> None:
        return None

    def release(self, connection: BaseDatabaseWrapper, key: int, key2: int) -> None:
        return None

    def claim_oldest(
        self,
        connection: BaseDatabaseWrapper,
        model: type[Model],
        *,
        expired: datetime,
        count: int,
        max_bytes: int,
        now: datetime,
        token: str,
        pending: str,
    ) -> list[int]:
        # Read the candidates, then one conditional UPDATE: of two claimers racing for a row exactly
        # one stamps it (the writer lock serialises the UPDATEs).
        claimable = Q(status=pending) & (Q(claimed_at__isnull=True) | Q(claimed_at__lt=expired))
        candidates = (
            model._default_manager.filter(claimable)
            .order_by("id")
            .annotate(size=Length("body"))
            .values_list("id", "size")[:count]
        )
        budget = max_bytes
        wanted: list[int] = []
        for row_id, size in candidates:
            budget -= size or 0
            if budget < 0 and wanted:
                break
            wanted.append(row_id)
        if not wanted:
            return []
        model._default_manager.filter(claimable, pk__in=wanted).update(
            claimed_at=now, claim_token=token, attempts=F("attempts") + 1
        )
        return list(
            model._default_manager.filter(claim_token=token).order_by("id").values_list("id", flat=True)
        )


SQLITE = SQLite()
