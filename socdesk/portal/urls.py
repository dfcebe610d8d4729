"""The requester portal's URLs, mounted at /portal/."""

from django.urls import path

from socdesk.portal import sso_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in", views.sign_in, name="sign-in"),
    path("sign-in/<str:secret>", views.link, name="link"),
    path("sign-out", views.sign_out, name="sign-out"),
    path("sso/start", sso_views.sso_start, name="sso-start"),
    path("sso/callback", sso_views.sso_callback, name="sso-callback"),
    path("profile", views.profile, name="profile"),
    path("report/<int:topic_id>", views.report, name="report"),
    path("report/<int:topic_id>/articles", views.articles_suggested, name="articles-suggested"),
    path("articles/<int:pk>", views.article, name="article"),
    path("tickets/<str:number>", views.ticket, name="ticket"),
    path("tickets/<str:number>/files/<int:attachment_id>", views.attachment, name="attachment"),
]
