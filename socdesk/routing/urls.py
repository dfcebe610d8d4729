from django.urls import path

from socdesk.routing import views

urlpatterns = [
    path("tickets/new/topic", views.new_ticket_topic, name="new-ticket-topic"),
    path("tickets/<str:number>/custom-fields", views.ticket_fields_panel, name="ticket-custom-fields"),
]
