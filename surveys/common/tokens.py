"""Secret tokens in residents' links: 192 random bits, of which only a hash is stored."""

import hashlib
import secrets


def new_token() -> str:
    """192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
