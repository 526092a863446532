"""A cheap hasher for OAuth2 client secrets.

Client secrets are 128 random characters, so a slow KDF buys nothing against guessing and costs
a large share of a second of CPU per token call with Django's default rounds. 1,000 PBKDF2 rounds
keep the stored value one-way at a small fraction of that.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class ClientSecretHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_sha256_client"
    iterations = 1_000
