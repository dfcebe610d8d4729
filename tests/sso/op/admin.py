"""Set up and change the test provider's data from the test: `python -m tests.sso.op.admin COMMAND ...`.

setup CLIENT_ID CLIENT_SECRET REDIRECT_URI   migrate, make a signing key and register SOCdesk as a client
client CLIENT_ID CLIENT_SECRET REDIRECT_URI...   register (or update) another client, e.g. the portal's
user USERNAME PASSWORD EMAIL [GROUP ...]     create or update a user and set its groups exactly
                                             (the group `unverified-email` makes its e-mail unverified)
"""

import os
import sys

import django


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.sso.op.settings")
    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from oidc_provider.models import Client, ResponseType, RSAKey

    command, *args = argv
    if command == "setup":
        client_id, client_secret, redirect_uri = args
        call_command("migrate", verbosity=0)
        if not RSAKey.objects.exists():
            call_command("creatersakey")
        client, _ = Client.objects.update_or_create(
            client_id=client_id,
            defaults={
                "name": "SOCdesk",
                "client_type": "confidential",
                "client_secret": client_secret,
                "require_consent": False,
                "_redirect_uris": redirect_uri,
            },
        )
        client.response_types.set([ResponseType.objects.get(value="code")])
    elif command == "client":
        client_id, client_secret, *redirect_uris = args
        client, _ = Client.objects.update_or_create(
            client_id=client_id,
            defaults={
                "name": client_id,
                "client_type": "confidential",
                "client_secret": client_secret,
                "require_consent": False,
                "_redirect_uris": "\n".join(redirect_uris),
            },
        )
        client.response_types.set([ResponseType.objects.get(value="code")])
    elif command == "user":
        username, password, email, *groups = args
        user, _ = User.objects.get_or_create(username=username)
        user.email = email
        user.first_name = username.capitalize()
        user.last_name = "Tester"
        if not user.check_password(password):
            # Only when it changes: a new password would sign the user out of the provider's session.
            user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get_or_create(name=name)[0] for name in groups])
    else:
        sys.exit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
