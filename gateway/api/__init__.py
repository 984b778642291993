"""What every app's API shares: problem+json errors, pagination, idempotency,
rate limits, scope checks, request ids, health and metrics."""
