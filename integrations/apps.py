from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        import prometheus_client

        from integrations.cj.metrics import CJBudgetCollector

        # Registered once per process; /metrics reads the shared budget from Redis when scraped.
        if not any(isinstance(c, CJBudgetCollector) for c in list(prometheus_client.REGISTRY._collector_to_names)):
            prometheus_client.REGISTRY.register(CJBudgetCollector())
