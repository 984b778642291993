"""Secrets the database has to keep but a dump must not hand out, sealed
with Fernet under a key derived from SECRET_KEY and a purpose (so a key of
one use never opens another's); SECRET_KEY_FALLBACKS still open what an
earlier key sealed, so SECRET_KEY can be rotated without losing them."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SealBroken(RuntimeError):
    """Sealed with a key that is no longer SECRET_KEY nor in SECRET_KEY_FALLBACKS."""


def _fernet(purpose: str) -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"{purpose}:{key}".encode()).digest())) for key in keys]
    )


def seal(text: str, *, purpose: str) -> str:
    return _fernet(purpose).encrypt(text.encode()).decode()


def unseal(token: str, *, purpose: str) -> str:
    try:
        return _fernet(purpose).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SealBroken(f"A sealed {purpose} cannot be opened with the configured keys.") from exc
