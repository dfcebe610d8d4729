from django.urls import path

from socdesk.cases import views

app_name = "cases"

urlpatterns = [
    path("tasks/mine", views.my_tasks, name="mine"),
    path("tickets/<str:number>/tasks", views.ticket_tasks_panel, name="ticket-tasks"),
]
