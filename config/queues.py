"""The four queues and how work is enqueued: what apps import.

Queues (names kept from the original system): `sync-products`, `create-order`,
`process-webhook`, `update-stock`. Jobs take ids, re-read their rows and are idempotent.
Transient failures raise and are retried by RQ with backoff (`default_retry`); permanent failures
are recorded on the row by the job itself. A job that exhausts its retries stays in the queue's
failed-job registry: the dead-letter queue, requeueable from the admin (django-rq dashboard).
The worker class that runs the jobs is `config.worker.Worker`.
"""

import logging
import os
from typing import Any

import django_rq
import redis
from django.conf import settings
from django.db import transaction
from redis.backoff import NoBackoff
from redis.retry import Retry as RedisRetry
from rq import Retry
from rq.job import Job
from rq.queue import Queue
from rq.types import FunctionReferenceType

from config.outages import Outage
from config.request_context import current_request_id

SYNC_PRODUCTS = "sync-products"
CREATE_ORDER = "create-order"
PROCESS_WEBHOOK = "process-webhook"
UPDATE_STOCK = "update-stock"
QUEUE_NAMES = (SYNC_PRODUCTS, CREATE_ORDER, PROCESS_WEBHOOK, UPDATE_STOCK)

jobs_logger = logging.getLogger("jobs")

# Enqueues from this process (requests, sweepers, the scheduler): one line when Redis goes away
# and one when it is back, with counts; while it is away, one probe per REDIS_OUTAGE_PROBE_SECONDS.
enqueue_outage = Outage(jobs_logger, "jobs.enqueue", probe_seconds=lambda: settings.REDIS_OUTAGE_PROBE_SECONDS)


class RedisUnavailable(redis.ConnectionError):
    """Raised instead of trying while an outage is known (see `enqueue_outage`)."""


def default_retry() -> Retry:
    """Bounded retries with growing delays (RQ_RETRY_INTERVALS), for transient failures."""
    intervals = list(settings.RQ_RETRY_INTERVALS)
    return Retry(max=len(intervals), interval=intervals)


_queues: dict[tuple[str, int, str, int, int, float], Queue] = {}


def request_connection_kwargs() -> dict[str, Any]:
    """redis-py options of every connection outside the worker's own (requests, sweepers, the
    scheduler, /health): a short, explicit budget and no retries. redis-py's `Redis()` retries 3
    times with backoff by default (about 4 s against a dead server), and a stopped server
    accepts connections it never answers: a request must neither wait for the one nor the other."""
    return {
        "socket_connect_timeout": settings.REDIS_REQUEST_TIMEOUT,
        "socket_timeout": settings.REDIS_REQUEST_TIMEOUT,
        "retry": RedisRetry(NoBackoff(), 0),
        "driver_info": settings.REDIS_DRIVER_INFO,
    }


def get_queue(name: str) -> Queue:
    """The named queue, one per process, on a connection with the request budget
    (`request_connection_kwargs`). django-rq builds a new Redis connection pool on every call
    (`django_rq.get_queue`, the plain way), which costs a TCP connection per enqueue; the workers
    (`manage.py rqworker`) use RQ_QUEUES' own, longer read timeout for their blocking dequeue."""
    # A forked process must not share the parent's sockets; changed settings get a new connection.
    config = settings.RQ_QUEUES[name]
    key = (name, os.getpid(), config["HOST"], config["PORT"], config["DB"], settings.REDIS_REQUEST_TIMEOUT)
    if key not in _queues:
        connection = redis.Redis(
            host=config["HOST"],
            port=config["PORT"],
            db=config["DB"],
            username=config.get("USERNAME"),
            password=config.get("PASSWORD"),
            ssl=config.get("SSL", False),
            **request_connection_kwargs(),
        )
        _queues[key] = django_rq.get_queue(name, connection=connection)
    return _queues[key]


def job_id(kind: str, pk: int | str) -> str:
    """The id of the one job of `kind` for row `pk`, e.g. `job_id("order-forward", 42)` is
    `order-forward-42`: the sweepers and the admin find (and never duplicate) a row's job by it."""
    return f"{kind}-{pk}"


def enqueue(queue_name: str, func: FunctionReferenceType, *args: Any, **kwargs: Any) -> Job:
    """Enqueue now and return the job; raises redis.RedisError when Redis is unreachable.

    `func` is the job's dotted path (`"orders.jobs.order_forward_to_cj_job"`), so the enqueuing
    module never imports the jobs module it feeds. Use for work that does not depend on
    uncommitted rows (a sync trigger, a sweep).
    """
    kwargs.setdefault("retry", default_retry())
    meta = {"request_id": current_request_id(), **kwargs.pop("meta", {})}
    queue = get_queue(queue_name)
    if not enqueue_outage.allow():
        raise RedisUnavailable("Redis is unreachable (outage under way; the sweeper enqueues later)")
    # One MULTI/EXEC round trip instead of the three of a plain `queue.enqueue` (the job is queued
    # on execute); the webhook receipt enqueues in every request (bench/webhooks.py, ack latency).
    try:
        with queue.connection.pipeline() as pipe:
            job = queue.enqueue(func, *args, meta=meta, pipeline=pipe, **kwargs)
            pipe.execute()
    except redis.RedisError as error:
        enqueue_outage.failed(error, queue=queue_name)
        raise
    enqueue_outage.succeeded(queue=queue_name)
    jobs_logger.info("jobs.enqueued", extra={"queue": queue_name, "job_id": job.id, "func": job.func_name})
    return job


def enqueue_on_commit(queue_name: str, func: FunctionReferenceType, *args: Any, **kwargs: Any) -> None:
    """Enqueue once the current transaction commits; never if it rolls back.

    A Redis outage at that moment is not raised: the row is committed and the periodic sweeper of
    its app enqueues it later, so nothing accepted is lost. The outage is logged once
    (`jobs.enqueue.outage`, then `jobs.enqueue.recovered` with counts), each job left to the
    sweeper at debug level (`jobs.enqueue_failed`).
    """
    request_id = current_request_id()

    def _enqueue() -> None:
        try:
            enqueue(queue_name, func, *args, meta={"request_id": request_id}, **kwargs)
        except redis.RedisError as error:
            jobs_logger.debug(
                "jobs.enqueue_failed",
                extra={"queue": queue_name, "func": getattr(func, "__name__", str(func)), "error": str(error)},
            )

    transaction.on_commit(_enqueue, robust=True)
