from django.urls import path

from socdesk.mail import views

app_name = "mail"

urlpatterns = [
    path("outbound/<int:message_id>/retry", views.outbound_retry_view, name="outbound-retry"),
    path("inbound/<int:message_id>/html", views.inbound_html, name="inbound-html"),
    path("tickets/<str:number>/canned", views.canned_picker, name="canned-picker"),
    path("tickets/<str:number>/canned/<int:pk>", views.canned_insert, name="canned-insert"),
]
