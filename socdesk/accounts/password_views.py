"""The set-password page a new agent opens from the link an admin gave them (socdesk.accounts.onboarding).

Django's password-reset views check the token (and move it out of the address into the session, so it
never leaks through a Referer header); the password is saved by user_set_password, which applies the
password rules and records the change.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.urls import reverse_lazy

from socdesk.accounts.services import user_set_password
from socdesk.core.actor import Actor, client_ip


class AuditedSetPasswordForm(SetPasswordForm):
    """Django's new-password form, saving through the audited service; the actor is the login itself."""

    actor: Actor

    def save(self, commit: bool = True):
        password = self.cleaned_data["new_password1"]
        return user_set_password(actor=self.actor, user=self.user, password=password)


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """GET shows the form for a valid link (or why the link is no good); POST sets the password."""

    form_class = AuditedSetPasswordForm
    template_name = "accounts/set_password.html"
    success_url = reverse_lazy("account-set-password-done")
    reset_url_token = "choose"  # the path word Django swaps the token for, not a secret

    def get_context_data(self, **kwargs):
        # Tells the person whose login they are about to set a password for.
        username = self.user.get_username() if self.user else ""
        return {**super().get_context_data(**kwargs), "username": username}

    def form_valid(self, form):
        form.actor = Actor(
            kind="user", label=self.user.get_username(), ident=str(self.user.pk), ip=client_ip(self.request)
        )
        return super().form_valid(form)


class SetPasswordDoneView(auth_views.PasswordResetCompleteView):
    """The password is set: sign in."""

    template_name = "accounts/set_password_done.html"
