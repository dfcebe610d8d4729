from django.urls import path

from socdesk.tickets import views

app_name = "tickets"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("new", views.ticket_new, name="new"),
    path("bulk", views.bulk, name="bulk"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("<str:number>/", views.ticket_detail, name="detail"),
    path("<str:number>/presence", views.presence, name="presence"),
    path("<str:number>/<slug:action>", views.ticket_action, name="action"),
]
