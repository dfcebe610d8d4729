from django.urls import path

from socdesk.tickets import export_views, merge_views, saved_search_views, views

app_name = "tickets"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("new", views.ticket_new, name="new"),
    path("bulk", views.bulk, name="bulk"),
    path("export", export_views.queue_export, name="export"),
    path("saved/new", saved_search_views.saved_create, name="saved_new"),
    path("saved/<int:saved_search_id>/", saved_search_views.saved_queue, name="saved"),
    path("saved/<int:saved_search_id>/edit", saved_search_views.saved_edit, name="saved_edit"),
    path("saved/<int:saved_search_id>/move", saved_search_views.saved_move, name="saved_move"),
    path("saved/<int:saved_search_id>/delete", saved_search_views.saved_delete, name="saved_delete"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("<str:number>/", views.ticket_detail, name="detail"),
    path("<str:number>/presence", views.presence, name="presence"),
    path("<str:number>/merge", merge_views.ticket_merge_review, name="merge"),
    path("<str:number>/<slug:action>", views.ticket_action, name="action"),
]
