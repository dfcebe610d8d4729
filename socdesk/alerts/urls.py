from django.urls import path

from socdesk.alerts import failed_views, views

urlpatterns = [
    path("deliveries/failed", failed_views.failed_deliveries, name="failed-deliveries"),
    path("deliveries/failed/retry", failed_views.failed_deliveries_retry, name="failed-deliveries-retry"),
    path("api/v1/hooks/<str:adapter>", views.hook, name="alert-hook"),
    path("api/v1/hooks/<str:adapter>/<str:token>", views.hook, name="alert-hook-token"),
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
