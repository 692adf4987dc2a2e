"""`python manage.py stripe_webhooks register --url URL [--wait SECONDS]`: point localstripe's
signed webhooks at our receiver (what `make run` does at start). With a real STRIPE_SECRET_KEY the
endpoint is set up in Stripe's dashboard (events payment_intent.succeeded and
payment_intent.payment_failed) and its signing secret goes to STRIPE_WEBHOOK_SECRET."""

import time
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.payments import is_localstripe, localstripe_webhook_register
from webhooks.stripe_dispatch import STRIPE_EVENT_TYPES


class Command(BaseCommand):
    help = "Register our Stripe webhook receiver with localstripe (the stand-in used without STRIPE_SECRET_KEY)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["register"])
        parser.add_argument("--url", required=True, help="our receiver, e.g. http://127.0.0.1:8000/api/webhooks/stripe")
        parser.add_argument("--wait", type=float, default=0.0, help="seconds to wait for localstripe to answer")

    def handle(self, *args: Any, **options: Any) -> None:
        if not is_localstripe():
            raise CommandError(
                "STRIPE_SECRET_KEY is set: add the endpoint in Stripe's dashboard and put its signing secret "
                "in STRIPE_WEBHOOK_SECRET"
            )
        if not settings.STRIPE_WEBHOOK_SECRET:
            raise CommandError("STRIPE_WEBHOOK_SECRET is not set: the receiver could not verify localstripe's events")
        deadline = time.monotonic() + options["wait"]
        while True:
            try:
                localstripe_webhook_register(url=options["url"], events=STRIPE_EVENT_TYPES)
                break
            except requests.RequestException as error:
                if time.monotonic() >= deadline:
                    raise CommandError(f"localstripe at {settings.STRIPE_API_BASE} did not answer: {error}") from error
                time.sleep(0.5)
        self.stdout.write(f"localstripe pushes {', '.join(STRIPE_EVENT_TYPES)} to {options['url']}")
