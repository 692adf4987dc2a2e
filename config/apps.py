from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "config"
    verbose_name = "Configuration"

    def ready(self) -> None:
        # Registers the project's system checks (imported here: they read settings).
        from config import metrics  # noqa: F401
