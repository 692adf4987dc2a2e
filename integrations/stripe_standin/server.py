"""localstripe, made to behave like Stripe where the shop depends on it.

localstripe 1.15.10 is a stateful fake of Stripe's API (PaymentIntents, confirm, cancel, refunds,
signed webhooks registered with `POST /_config/webhooks/<id>`). Three gaps are filled here:

- **Idempotency-Key**: Stripe replays the first answer to a POST with the same key (24 h);
  localstripe ignores the header. An aiohttp middleware keeps each POST's answer per API key and
  Idempotency-Key and replays it (a retried refund never refunds twice).
- **Webhook retries**: Stripe retries a delivery that got no 2xx answer (for days, with backoff);
  localstripe tries once. Deliveries here are retried `WEBHOOK_ATTEMPTS` times, re-signed each time
  with the current timestamp as Stripe does.
- **State on disk**: localstripe pickles its whole store to one fixed /tmp path after every POST
  (shared by every instance on the machine, and slower as the store grows); here the store lives in
  memory only.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from localstripe import resources, server, webhooks

logger = logging.getLogger("aiohttp.access")

WEBHOOK_ATTEMPTS = 4
WEBHOOK_FIRST_DELAY = 1.0  # seconds before the first delivery (localstripe's own), then doubled per retry
IDEMPOTENCY_CACHE_SIZE = 50_000

_answers: "OrderedDict[tuple[str, str, str], tuple[int, bytes, str]]" = OrderedDict()


@web.middleware
async def idempotency_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    cache_key = (request.headers.get("Authorization", ""), request.path, key)
    cached = _answers.get(cache_key)
    if cached is not None:
        status, body, content_type = cached
        return web.Response(
            status=status, body=body, content_type=content_type, headers={"Idempotent-Replayed": "true"}
        )
    try:
        response = await handler(request)
    except web.HTTPException as error:  # localstripe's errors are answers too: Stripe replays them
        response = error
    if isinstance(response, web.Response) and response.status < 500 and response.body is not None:
        body = response.body if isinstance(response.body, bytes) else bytes(str(response.body), "utf-8")
        _answers[cache_key] = (response.status, body, response.content_type)
        if len(_answers) > IDEMPOTENCY_CACHE_SIZE:
            _answers.popitem(last=False)
    return response


def _signed_headers(secret: str, payload: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    signature = hmac.new(secret.encode(), b"%d.%s" % (timestamp, payload), hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": f"t={timestamp},v1={signature}"}


async def _deliver(webhook: Any, event_type: str, payload: bytes) -> None:
    delay = WEBHOOK_FIRST_DELAY
    for attempt in range(1, WEBHOOK_ATTEMPTS + 1):
        await asyncio.sleep(delay)
        delay *= 2
        try:
            async with (
                ClientSession(timeout=ClientTimeout(total=10)) as session,
                session.post(webhook.url, data=payload, headers=_signed_headers(webhook.secret, payload)) as r,
            ):
                if 200 <= r.status < 300:
                    logger.info('webhook "%s" delivered (attempt %d)', event_type, attempt)
                    return
                logger.info('webhook "%s" answered %d (attempt %d)', event_type, r.status, attempt)
        except (TimeoutError, ClientError) as error:
            logger.info('webhook "%s" failed (attempt %d): %s', event_type, attempt, error)


async def _send_webhook(event: Any) -> None:
    """localstripe's delivery, with Stripe's retries: each registered endpoint on its own."""
    payload = json.dumps(event._export(), indent=2, sort_keys=True).encode("utf-8")
    targets = [hook for hook in webhooks._webhooks.values() if hook.events is None or event.type in hook.events]
    await asyncio.gather(*(_deliver(hook, event.type, payload) for hook in targets))


def app() -> web.Application:
    """localstripe's aiohttp application with the layer above (call once per process)."""
    resources.store.dump_to_disk = lambda: None
    resources.store.try_load_from_disk = lambda: None
    webhooks._send_webhook = _send_webhook
    application: web.Application = server.app
    application.middlewares.insert(0, idempotency_middleware)
    return application


def serve(*, host: str, port: int) -> None:
    web.run_app(app(), host=host, port=port, access_log=None, print=None)
