"""Sealed secrets (gateway.sealing): a key per purpose, opened after a
SECRET_KEY rotation through SECRET_KEY_FALLBACKS, and the webhook secrets
sealed before this module existed still open."""

import base64
import hashlib

import pytest
from cryptography.fernet import Fernet

from gateway.sealing import SealBroken, seal, unseal
from partners.services.signing import webhook_secret_decrypt


def test_a_sealed_text_opens_for_its_purpose_only() -> None:
    token = seal("whsec_abc", purpose="one")

    assert "whsec_abc" not in token
    assert unseal(token, purpose="one") == "whsec_abc"
    with pytest.raises(SealBroken):
        unseal(token, purpose="two")


def test_a_rotated_secret_key_still_opens_through_its_fallback(settings) -> None:
    token = seal("kept", purpose="p")
    old = settings.SECRET_KEY

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "n" * 60, [old]
    assert unseal(token, purpose="p") == "kept"
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(SealBroken):
        unseal(token, purpose="p")


def test_webhook_secrets_sealed_before_keep_opening(settings) -> None:
    key = base64.urlsafe_b64encode(hashlib.sha256(f"partners.webhook-secret:{settings.SECRET_KEY}".encode()).digest())
    sealed_by_the_old_code = Fernet(key).encrypt(b"whsec_old").decode()

    assert webhook_secret_decrypt(sealed_by_the_old_code) == "whsec_old"
