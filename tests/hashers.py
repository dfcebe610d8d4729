"""A cheap argon2 for tests: the same algorithm and hash format, far less memory and time per hash."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    # Production keeps Django's defaults (about half a second per hash here); every persona set would
    # otherwise cost seconds per test.
    time_cost = 1
    memory_cost = 256
    parallelism = 1
