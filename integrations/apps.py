from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        import prometheus_client

        from config.dashboard import dashboard_panel_register
        from integrations.cj.metrics import CJBudgetCollector, points_panels

        # Registered once per process; /metrics reads the shared budget from Redis when scraped.
        if not any(isinstance(c, CJBudgetCollector) for c in list(prometheus_client.REGISTRY._collector_to_names)):
            prometheus_client.REGISTRY.register(CJBudgetCollector())
        dashboard_panel_register(points_panels)  # the points plan on the admin dashboard
