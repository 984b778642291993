"""The API docs (Swagger UI, Redoc) load nothing from another host: they must
work on a network without internet access, as served by the real server
(granian serves the static files)."""

import re
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.conftest import GatewayServer

# Where a page or stylesheet makes the browser fetch something.
_HTML_REFERENCES = re.compile(r"""\b(?:src|href|srcset|poster|data)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_CSS_REFERENCES = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)|url\(\s*["']?([^"')]+)["']?\s*\)""")
# Font and script CDNs a bundle could inject a <link> or @font-face for at runtime.
_CDN_HOSTS = ("fonts.googleapis.com", "fonts.gstatic.com", "use.typekit.net", "cdn.jsdelivr.net", "unpkg.com", "cdnjs")


def _references(text: str, *, css: bool) -> list[str]:
    found = [first or second for first, second in _CSS_REFERENCES.findall(text)]
    if not css:
        found += _HTML_REFERENCES.findall(text)
    return [ref.strip() for ref in found if not ref.strip().startswith(("data:", "#", "about:", "javascript:"))]


def _assert_same_host(server: GatewayServer, base: str, ref: str) -> str:
    url = urljoin(base, ref)
    assert urlsplit(url).netloc == urlsplit(server.url).netloc, f"{base} loads {ref} from another host"
    return url


@pytest.mark.concurrency
def test_docs_pages_load_nothing_from_another_host(gateway_server: GatewayServer) -> None:
    for page in ("/api/docs/", "/api/redoc/"):
        # given the docs page as the real server serves it
        response = requests.get(gateway_server.url + page, timeout=10)
        assert response.status_code == 200
        html = response.text
        # when every stylesheet, script and icon it references is fetched from the same server
        pending = [_assert_same_host(gateway_server, response.url, ref) for ref in _references(html, css=False)]
        assert any(url.endswith(".js") for url in pending), page  # the scan sees the real page
        seen: set[str] = set()
        while pending:
            url = pending.pop()
            if url in seen:
                continue
            seen.add(url)
            asset = requests.get(url, timeout=10)
            # then each one is there, and none of them reaches out in turn
            assert asset.status_code == 200, url
            path = urlsplit(url).path
            if path.endswith(".css"):
                pending += [_assert_same_host(gateway_server, url, ref) for ref in _references(asset.text, css=True)]
            if path.endswith(".js"):
                for host in _CDN_HOSTS:
                    assert host not in asset.text, f"{url} loads from {host} at runtime"
        for host in _CDN_HOSTS:
            assert host not in html, f"{page} names {host}"
