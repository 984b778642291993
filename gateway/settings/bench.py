"""The benchmarks (loadtests/): production settings plus the lab, the
loadtests app (seeding commands) and its URLs (the ceiling endpoints). Nothing
else knows about benchmarks."""

from gateway.settings.base import INSTALLED_APPS
from gateway.settings.production import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "loadtests"]
ROOT_URLCONF = "loadtests.urls"
