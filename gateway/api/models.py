"""Models of the shared API machinery."""

from django.db import models


class IdempotencyRecord(models.Model):
    """The stored outcome of a write sent with an ``Idempotency-Key``.

    Written in the same transaction as the write's effect, so a key is
    recorded exactly when the effect happened. ``scope`` is the OAuth client
    (and, for shopper tokens, the user) the key belongs to."""

    scope = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique")]

    def __str__(self) -> str:
        return f"{self.scope}/{self.key}"
