"""CJ's token pair survives a Redis that forgot everything: kept in PostgreSQL (encrypted), Redis
as its cache; CJ (the simulator) refuses a second login within 5 minutes, so a lost pair would stop
every quote and order."""

import pytest
import redis
from django.conf import settings as django_settings

from integrations.cj.client import get_client
from integrations.cj.errors import CJRateLimitedError
from integrations.models import CJTokenRecord


def _flush_queue_redis() -> None:
    redis.Redis.from_url(django_settings.REDIS_URL).flushdb()


def test_redis_flushed_then_no_new_login_and_the_pair_is_cached_again(cj_simulator):
    client = get_client()
    client.list_categories()
    pair = client.tokens.load()

    _flush_queue_redis()  # Redis restarted without its data
    client.list_categories()

    stats = cj_simulator.stats()
    assert (stats["get_access_token"], stats["refresh_access_token"]) == (1, 0)
    assert stats["calls"] == {"authentication/getAccessToken": 1, "product/getCategory": 2}
    assert client.tokens.load() == pair
    assert redis.Redis.from_url(django_settings.REDIS_URL).exists(f"{client.tokens.prefix}:pair") == 1


def test_the_pair_is_encrypted_at_rest(cj_simulator):
    client = get_client()
    client.list_categories()
    pair = client.tokens.load()

    record = CJTokenRecord.objects.get()
    assert record.account == client.tokens.prefix
    assert pair.access_token not in record.ciphertext and pair.refresh_token not in record.ciphertext
    assert record.login_at is not None


def test_a_pair_encrypted_under_another_key_reads_as_none(cj_simulator, settings):
    client = get_client()
    client.list_categories()
    _flush_queue_redis()

    settings.CJ_TOKEN_ENCRYPTION_KEY = "A" * 43 + "="  # another (valid) Fernet key

    assert client.tokens.load() is None


def test_the_five_minute_login_guard_survives_a_redis_flush(cj_simulator):
    client = get_client()
    client.list_categories()
    CJTokenRecord.objects.update(ciphertext="")  # no pair anywhere, but the login was just now
    _flush_queue_redis()

    with pytest.raises(CJRateLimitedError) as raised:
        client.list_categories()

    assert raised.value.endpoint == "authentication/getAccessToken" and 290 <= raised.value.retry_after <= 301
    assert cj_simulator.stats()["get_access_token"] == 1


def test_the_simulator_refuses_a_second_login_within_five_minutes(cj_simulator):
    import requests

    url = f"{cj_simulator.base_url}authentication/getAccessToken"
    first = requests.post(url, json={"apiKey": cj_simulator.api_key}, timeout=5).json()
    second = requests.post(url, json={"apiKey": cj_simulator.api_key}, timeout=5).json()

    assert first["code"] == 200 and first["data"]["accessToken"]
    assert second["code"] != 200 and second["data"] is None


def test_the_webhook_signing_key_comes_from_postgresql_while_redis_is_known_to_be_away(cj_simulator, settings):
    from config.queues import enqueue_outage

    client = get_client()
    client.list_categories()
    settings.CJ_OPEN_ID = ""
    client = get_client()
    client.tokens._redis = redis.Redis(port=9, socket_connect_timeout=0.1)  # asking it would fail
    enqueue_outage.failed(redis.ConnectionError("refused"))
    try:
        assert client.open_id == "1234567890"
    finally:
        enqueue_outage.succeeded()
