"""API test fixtures."""

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The personas' argon2 hashing costs ~0.5 s per agent; these tests never log in with a password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
