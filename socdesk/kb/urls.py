from django.urls import path

from socdesk.kb import views

app_name = "kb"

urlpatterns = [
    path("", views.kb_home, name="home"),
    path("articles/new", views.article_new, name="article-new"),
    path("articles/<int:pk>", views.article_detail, name="article"),
    path("articles/<int:pk>/edit", views.article_edit, name="article-edit"),
    path("articles/<int:pk>/delete", views.article_delete, name="article-delete"),
    path("categories/new", views.category_new, name="category-new"),
    path("categories/<int:pk>/delete", views.category_delete, name="category-delete"),
    path("tickets/<str:number>/suggested", views.suggested, name="suggested"),
]
