"""The agent's own account pages: two-factor sign-in set-up (the second sign-in step is at /login/verify)."""

from django.urls import path

from socdesk.accounts import twofactor_views

urlpatterns = [
    path("security", twofactor_views.security_view, name="account-security"),
    path("security/enroll/start", twofactor_views.enroll_start_view, name="account-security-enroll-start"),
    path("security/enroll", twofactor_views.enroll_view, name="account-security-enroll"),
    path(
        "security/recovery-codes", twofactor_views.recovery_codes_view, name="account-security-recovery-codes"
    ),
    path("security/disable", twofactor_views.disable_view, name="account-security-disable"),
]
