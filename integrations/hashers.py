"""A cheap hasher for OAuth2 client secrets.

Client secrets are 128 random characters, so a slow KDF buys nothing against guessing and costs
~0.35 s of CPU per token call with Django's default (spike §6.4). 1,000 PBKDF2 rounds keep the stored
value one-way while a token call costs a few milliseconds.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class ClientSecretHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_sha256_client"
    iterations = 1_000
