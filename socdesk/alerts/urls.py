from django.urls import path

from socdesk.alerts import alert_views, failed_views, views

urlpatterns = [
    path("deliveries/failed", failed_views.failed_deliveries, name="failed-deliveries"),
    path("deliveries/failed/retry", failed_views.failed_deliveries_retry, name="failed-deliveries-retry"),
    path("api/v1/hooks/<str:adapter>", views.hook, name="alert-hook"),
    path("api/v1/hooks/<str:adapter>/<str:token>", views.hook, name="alert-hook-token"),
    path("tickets/<str:number>/alerts", alert_views.alerts_panel, name="ticket-alerts"),
    path("tickets/<str:number>/alerts/<int:alert_id>/raw", alert_views.alert_raw, name="ticket-alert-raw"),
    path(
        "tickets/<str:number>/alerts/<int:alert_id>/raw/download",
        alert_views.alert_raw_download,
        name="ticket-alert-raw-download",
    ),
    path("tickets/<str:number>/observables", views.observables_panel, name="ticket-observables"),
    path("tickets/<str:number>/observables/add", views.observable_add, name="ticket-observable-add"),
    path(
        "tickets/<str:number>/observables/<int:link_id>/remove",
        views.observable_remove,
        name="ticket-observable-remove",
    ),
    path(
        "tickets/<str:number>/observables/<int:link_id>/flag",
        views.observable_flag,
        name="ticket-observable-flag",
    ),
]
