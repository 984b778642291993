"""The lab under test: the settings that gateway.settings.bench adds to
production (the loadtests app and its URLs), applied to the test settings."""

from collections.abc import Iterator

import pytest
from django.test import override_settings

from gateway.settings import bench


@pytest.fixture
def bench_settings() -> Iterator[None]:
    with override_settings(INSTALLED_APPS=bench.INSTALLED_APPS, ROOT_URLCONF=bench.ROOT_URLCONF):
        yield
