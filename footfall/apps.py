from django.apps import AppConfig


class FootfallConfig(AppConfig):
    name = "footfall"
    default_auto_field = "django.db.models.BigAutoField"
