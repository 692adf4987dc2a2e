from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        # Imported here, not at the top: the collector imports the models, which Django allows
        # only once the app registry is ready.
        import prometheus_client

        from webhooks.metrics import WebhookGuardCollector

        # Registered once per process; /metrics computes the pause guard when scraped.
        registered = list(prometheus_client.REGISTRY._collector_to_names)
        if not any(isinstance(collector, WebhookGuardCollector) for collector in registered):
            prometheus_client.REGISTRY.register(WebhookGuardCollector())
