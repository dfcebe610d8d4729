from django.urls import path

from socdesk.routing import views

urlpatterns = [
    path("tickets/new/topic", views.new_ticket_topic, name="new-ticket-topic"),
    path("tickets/help-topic-filter", views.queue_help_topic_filter, name="queue-help-topic-filter"),
    path("tickets/<str:number>/custom-fields", views.ticket_fields_panel, name="ticket-custom-fields"),
    path("tickets/<str:number>/help-topic", views.ticket_help_topic, name="ticket-help-topic"),
]
