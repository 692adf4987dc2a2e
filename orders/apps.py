from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        # Imported here: the collector imports the models, allowed once the app registry is ready.
        import prometheus_client

        from orders.metrics import CJBalanceCollector

        # Registered once per process; /metrics reads the balance and the payments when scraped.
        registered = list(prometheus_client.REGISTRY._collector_to_names)
        if not any(isinstance(collector, CJBalanceCollector) for collector in registered):
            prometheus_client.REGISTRY.register(CJBalanceCollector())
