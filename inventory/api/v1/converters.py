"""Path converters: location codes and SKUs are at most 64 characters with
no control characters (a NUL could not even be sent to PostgreSQL), so any
other path is an ordinary 404 before a view runs."""


class ReferenceConverter:
    regex = r"[^/\x00-\x1f\x7f]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
