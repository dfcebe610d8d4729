from django.urls import path

from socdesk.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell", views.dropdown, name="dropdown"),
    path("read-all", views.notifications_read_all, name="read_all"),
    path("preferences", views.preferences, name="preferences"),
    path("<int:notification_id>/open", views.notification_open, name="open"),
    path("<int:notification_id>/read", views.notification_read, name="read"),
]
