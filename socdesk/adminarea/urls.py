"""URLs of the admin area, mounted at /admin-area/ (not /admin/, which is Django's admin)."""

from django.urls import path

from socdesk.adminarea import tools, views

app_name = "adminarea"

urlpatterns = [
    path("", views.home, name="home"),
    path("agents", views.agents, name="agents"),
    path("agents/new", views.agent_new, name="agent-new"),
    path("agents/<int:pk>", views.agent_edit, name="agent-edit"),
    path("agents/<int:pk>/password-link", views.agent_password_link, name="agent-password-link"),
    path("departments", views.departments, name="departments"),
    path("departments/<int:pk>", views.department_edit, name="department-edit"),
    path("teams", views.teams, name="teams"),
    path("teams/<int:pk>", views.team_edit, name="team-edit"),
    path("roles", views.roles, name="roles"),
    path("roles/<int:pk>", views.role_edit, name="role-edit"),
    path("integrations", tools.integrations, name="integrations"),
    path("integrations/new", tools.integration_new, name="integration-new"),
    path("integrations/<int:pk>", tools.integration_edit, name="integration-edit"),
    path("integrations/<int:pk>/try", tools.integration_try, name="integration-try"),
    path("api-keys", tools.apikeys, name="apikeys"),
    path("api-keys/new", tools.apikey_new, name="apikey-new"),
    path("api-keys/<int:pk>/revoke", tools.apikey_revoke_view, name="apikey-revoke"),
]
