"""Prometheus export of the CJ balance and the CJ payments, read at scrape time (shared by all
processes): the balance from the last `cj_balance_check` (Redis), the payments from the database."""

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from orders.cj_balance import cj_balance_snapshot
from orders.models import Order

BALANCE = "cj_balance_usd"
BALANCE_HELP = "CJ account balance at the last check, USD (available, frozen, bonus)"
PAYMENTS = "orders_cj_payment"
PAYMENTS_HELP = "Placed orders per CJ payment status (due, held, waiting_balance, paid)"


class CJBalanceCollector(Collector):
    """`cj_balance_usd{kind="available|frozen|bonus"}`, `cj_balance_alert_below_usd`,
    `cj_balance_alerting` (1 below CJ_BALANCE_ALERT_BELOW), `cj_balance_checked_timestamp_seconds`
    and `orders_cj_payment{status}`."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Lets the registry learn the names without Redis or a query at registration.
        yield GaugeMetricFamily(BALANCE, BALANCE_HELP, labels=["kind"])
        yield GaugeMetricFamily(PAYMENTS, PAYMENTS_HELP, labels=["status"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            snapshot = cj_balance_snapshot()
        except Exception:  # a scrape must not fail because Redis is away
            snapshot = None
        if snapshot is not None:
            balance = GaugeMetricFamily(BALANCE, BALANCE_HELP, labels=["kind"])
            balance.add_metric(["available"], float(snapshot.amount))
            balance.add_metric(["frozen"], float(snapshot.frozen))
            balance.add_metric(["bonus"], float(snapshot.bonus))
            yield balance
            yield GaugeMetricFamily(
                "cj_balance_alert_below_usd", "CJ_BALANCE_ALERT_BELOW", value=float(snapshot.alert_below)
            )
            yield GaugeMetricFamily(
                "cj_balance_alerting",
                "1 when the CJ balance is below CJ_BALANCE_ALERT_BELOW",
                value=int(snapshot.is_alerting),
            )
            yield GaugeMetricFamily(
                "cj_balance_checked_timestamp_seconds",
                "When the CJ balance was last read (Unix time)",
                value=snapshot.checked_at.timestamp(),
            )
        try:
            counts = dict(
                Order.objects.exclude(cj_payment_status="")
                .values_list("cj_payment_status")
                .annotate(n=Count("id"))
                .values_list("cj_payment_status", "n")
            )
        except Exception:  # nor because the database is away
            return
        payments = GaugeMetricFamily(PAYMENTS, PAYMENTS_HELP, labels=["status"])
        for status in Order.CJPaymentStatus.values:
            if status:
                payments.add_metric([status], counts.get(status, 0))
        yield payments
