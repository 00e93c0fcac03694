"""How OAuth2 client secrets are stored: salted SHA-256.

The secrets are made by herzstadt (``secrets.token_urlsafe(40)``: 320 random bits), so a slow
password hash adds no protection against guessing, but would cost ~0.4 s of CPU per token request —
also per request with a wrong secret, which makes the public token endpoint a cheap way to load
the server. Never use this hasher for passwords people choose (it is not Django's default; only
``OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"]`` names it).
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare


class RandomSecretHasher(BasePasswordHasher):
    algorithm = "sha256_random_secret"

    def encode(self, password: str, salt: str) -> str:
        self._check_encode_args(password, salt)  # type: ignore[attr-defined]
        digest = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict:
        algorithm, salt, digest = encoded.split("$", 2)
        if algorithm != self.algorithm:
            raise ValueError(f"not a {self.algorithm} hash")
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        # Django's own keys (its admin translates them with Django's catalogue)
        return {
            "algorithm": decoded["algorithm"],
            "salt": mask_hash(decoded["salt"], show=2),
            "hash": mask_hash(decoded["hash"]),
        }

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass
