from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "socdesk.core"
    label = "core"
    verbose_name = "SOCdesk core"

    def ready(self) -> None:
        from socdesk.core import (
            db,  # noqa: F401  (connects the SQLite tuning signal)
            lookups,
        )

        lookups.register()

        from socdesk.core.metrics import reading_register
        from socdesk.core.queue_metrics import worker_queue_reading

        reading_register("worker_queue", worker_queue_reading)
