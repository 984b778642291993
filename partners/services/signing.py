"""Webhook signing secrets and Standard Webhooks signatures.

A secret is ``whsec_`` + base64 of 32 random bytes (the standard asks for 24
to 64). The database keeps it encrypted with a key derived from SECRET_KEY
(gateway.sealing; SECRET_KEY_FALLBACKS still decrypt after a key rotation), because
signing needs it in clear and a database dump must not hand it out.

The signature is ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))
where ``key`` is the base64-decoded part of the secret after ``whsec_``."""

import base64
import hashlib
import hmac
import secrets

from gateway.sealing import SealBroken, seal, unseal

SECRET_PREFIX = "whsec_"  # noqa: S105  the format prefix, not a secret
SECRET_BYTES = 32


def webhook_secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


SEAL_PURPOSE = "partners.webhook-secret"


def webhook_secret_encrypt(secret: str) -> str:
    return seal(secret, purpose=SEAL_PURPOSE)


def webhook_secret_decrypt(token: str) -> str:
    try:
        return unseal(token, purpose=SEAL_PURPOSE)
    except SealBroken as exc:
        # SECRET_KEY changed without keeping the old one in SECRET_KEY_FALLBACKS.
        raise RuntimeError("A webhook secret cannot be decrypted with the configured keys.") from exc


def signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signature_header(*, secrets_in_use: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature per secret, space-separated: during a rotation receivers
    holding either the new or the previous secret can verify."""
    return " ".join(signature(secret=s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_in_use)
