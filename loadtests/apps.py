"""The lab: benchmark endpoints and seeding commands. Only the bench settings
(gateway.settings.bench) install it, so production never serves or runs them."""

from django.apps import AppConfig


class LoadtestsConfig(AppConfig):
    name = "loadtests"
    verbose_name = "Benchmarks"
