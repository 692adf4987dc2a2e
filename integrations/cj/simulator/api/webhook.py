"""CJ's Webhook section: registering the callback URL per message family (webhook/set)."""

from urllib.parse import urlparse

from integrations.cj.simulator.api.wire import SimRequest, object_body
from integrations.cj.simulator.state import SimError, Simulator

WEBHOOK_FAMILIES = ("product", "stock", "order", "logistics")


def webhook_set(sim: Simulator, request: SimRequest) -> bool:
    body = object_body(request)
    families = {key: value for key, value in body.items() if key in WEBHOOK_FAMILIES}
    if not families:
        raise SimError(16900403, "product, stock, order or logistics must not be empty")
    updates: dict[str, str | None] = {}
    for family, setting in families.items():
        if not isinstance(setting, dict) or setting.get("type") not in ("ENABLE", "ALL", "CANCEL"):
            raise SimError(1600300, f"Param error: {family}.type must be ENABLE or CANCEL")
        urls = setting.get("callbackUrls") or []
        if setting["type"] == "CANCEL":
            updates[family] = None
            continue
        if not isinstance(urls, list) or len(urls) != 1:
            raise SimError(1600300, "Param error: exactly one callback URL is supported")
        url = str(urls[0])
        parsed = urlparse(url)
        if not sim.config.insecure_webhooks:
            if parsed.hostname in ("localhost", "127.0.0.1", "::1"):
                raise SimError(1607001, "Please do not use domain names such as localhost, 127.0.0.1")
            if parsed.scheme != "https":
                raise SimError(1607002, "The callback URL must start with https://")
        elif parsed.scheme not in ("http", "https"):
            raise SimError(1607002, "The callback URL must start with https://")
        updates[family] = url
    for family, callback_url in updates.items():
        if callback_url is None:
            sim.webhooks.pop(family, None)
        else:
            sim.webhooks[family] = callback_url
    if sim.pusher is not None:
        sim.pusher.resume()
    return True
