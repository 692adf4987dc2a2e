"""`python manage.py pay_test_order <number>`: pay an order's PaymentIntent with Stripe's test card
`pm_card_visa`, as a buyer would with Stripe.js (localstripe, or a Stripe test-mode key only)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.domain_errors import DomainError
from orders.models import Order
from orders.payments import TEST_PAYMENT_METHOD, payment_intent_confirm_with_test_card


class Command(BaseCommand):
    help = "Confirm an unpaid order's PaymentIntent with the test card pm_card_visa (localstripe or test mode)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("number", help="the order number, e.g. DS-7KQ4M2XP9A")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.STRIPE_SECRET_KEY and not settings.STRIPE_SECRET_KEY.startswith("sk_test_"):
            raise CommandError("STRIPE_SECRET_KEY is a live key: test cards are for localstripe or test mode only")
        order = Order.objects.filter(number=options["number"]).first()
        if order is None:
            raise CommandError(f"no order {options['number']}")
        if order.status != Order.Status.AWAITING_PAYMENT or not order.payment_intent_id:
            raise CommandError(f"order {order.number} is {order.status}, not waiting for a Stripe payment")
        try:
            intent = payment_intent_confirm_with_test_card(order.payment_intent_id)
        except DomainError as error:
            raise CommandError(f"Stripe refused: {error.message}") from error
        self.stdout.write(
            f"{order.number}: PaymentIntent {intent.id} is {intent.status} ({TEST_PAYMENT_METHOD}, "
            f"{intent.amount} {intent.currency}); the order turns paid when Stripe's webhook arrives"
        )
