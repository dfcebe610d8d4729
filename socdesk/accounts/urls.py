"""The agent's own account pages: availability (available / away, the top bar's switch), two-factor
sign-in set-up (the second sign-in step is at /login/verify), and the set-password page of a new agent's
link."""

from django.urls import path

from socdesk.accounts import availability_views, password_views, twofactor_views

urlpatterns = [
    path("availability", availability_views.availability_view, name="account-availability"),
    path("security", twofactor_views.security_view, name="account-security"),
    path("security/enroll/start", twofactor_views.enroll_start_view, name="account-security-enroll-start"),
    path("security/enroll", twofactor_views.enroll_view, name="account-security-enroll"),
    path(
        "security/recovery-codes", twofactor_views.recovery_codes_view, name="account-security-recovery-codes"
    ),
    path("security/disable", twofactor_views.disable_view, name="account-security-disable"),
    path(
        "set-password/<uidb64>/<token>", password_views.SetPasswordView.as_view(), name="account-set-password"
    ),
    path("set-password/done", password_views.SetPasswordDoneView.as_view(), name="account-set-password-done"),
]
