"""The Django middleware meant for browsers only (sessions, the signed-in
user, messages), skipped on the API's requests.

The API authenticates by bearer token in DRF (gateway/api/auth.py) and none
of its views reads a session, ``request.user`` or a message, so for an API
request these three only cost their set-up and their response hooks. The
pages meant for browsers (admin, login, OAuth's authorization page, the
docs) keep them. Subclasses, so that the admin's system checks still find
them in MIDDLEWARE. CSRF stays Django's own middleware, everywhere: the
deploy checks look for it by name (security.W003), and on the API it only
reads the cookie and sees the views are exempt. Apart from gateway/api/middleware.py:
importing Django's auth middleware needs the apps loaded, and gateway/wsgi.py
imports that module before."""

from collections.abc import Awaitable

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin

API_PREFIX = "/api/v1/"


class _BrowsersOnly(MiddlewareMixin):
    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class BrowserSessionMiddleware(_BrowsersOnly, SessionMiddleware):
    pass


class BrowserAuthenticationMiddleware(_BrowsersOnly, AuthenticationMiddleware):
    pass


class BrowserMessageMiddleware(_BrowsersOnly, MessageMiddleware):
    pass
