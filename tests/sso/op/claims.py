"""What the test provider says about a user: standard claims plus a `groups` claim (its Django groups)."""

from oidc_provider.lib.claims import ScopeClaims


def userinfo(claims, user):
    claims["name"] = user.get_full_name()
    claims["given_name"] = user.first_name
    claims["family_name"] = user.last_name
    claims["preferred_username"] = user.username
    claims["email"] = user.email
    # A user in the group `unverified-email` stands for an account whose address the provider never checked.
    claims["email_verified"] = not user.groups.filter(name="unverified-email").exists()
    return claims


class GroupsScopeClaims(ScopeClaims):
    info_groups = ("Groups", "The groups you belong to.")

    def scope_groups(self):
        return {"groups": sorted(group.name for group in self.user.groups.all())}
