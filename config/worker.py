"""The RQ worker class (`RQ["WORKER_CLASS"]`) and what only it uses.

RQ forks a work horse per job. Under RQ's plain `rq.Worker` (the plain equivalent: the same jobs,
run just as correctly) every horse connects to PostgreSQL, imports its job's module and the cache
clients, and builds the ORM's first-use state, since its parent never did. This worker does that
once before forking (imports, cache clients, ORM) or while the previous job runs (the session),
so each horse starts with it done: for short jobs such as webhook processing that is a large
share of a job's time (measured by bench/webhooks.py; history in bench/NOTES.md).

It also carries the enqueuing request's id into the job's log lines, logs each job (`jobs`) and
slow ones (`performance`), notices a killed worker's jobs within a few minutes, and waits out a
Redis outage instead of exiting.
"""

import contextlib
import ctypes
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import redis
from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from redis.client import Pipeline
from rq import Worker as RQWorker
from rq import worker_registration
from rq.exceptions import StopRequested
from rq.job import Job
from rq.queue import Queue
from rq.worker import WorkerStatus

from config.outages import Outage
from config.request_context import set_request_id

jobs_logger = logging.getLogger("jobs")
performance_logger = logging.getLogger("performance")


def _preload_for_jobs() -> None:
    """Import once, in the worker, what jobs import lazily, so that each forked horse inherits it
    instead of importing it again: every app's `jobs` module and the cache backends with their
    clients (django-redis imports its client, serializer and compressor modules when a cache is
    first used, which every horse that touches a cache would otherwise pay for). No Redis
    connection is inherited: a horse opens its own (the PostgreSQL session is handed over, see
    `Worker`)."""
    autodiscover_modules("jobs")
    for alias in settings.CACHES:
        getattr(caches[alias], "client", None)  # django-redis builds its client lazily, unconnected
    _warm_orm()


def _warm_orm() -> None:
    """Run one empty SELECT per model, then disconnect: the ORM and psycopg build much of what a
    query needs on first use (field and compiler caches, type adapters), and a horse forked from
    a worker that never queried pays for it in every job. Skipped, with a warning, when
    PostgreSQL is away."""
    try:
        for model in apps.get_models():
            if model._meta.managed and not model._meta.proxy:
                list(model._default_manager.filter(pk=None)[:1])
    except DatabaseError as error:
        jobs_logger.warning("jobs.warm_up_skipped", extra={"error": str(error)})
    finally:
        connections.close_all()


def redis_wait(connection: redis.Redis, *, give_up: Callable[[], bool] = lambda: False, max_delay: float = 10) -> bool:
    """Block until Redis answers, retrying with growing delays (after an outage); False when
    `give_up()` turned true first."""
    delay = 0.5
    while not give_up():
        try:
            connection.ping()
            return True
        except (redis.ConnectionError, redis.TimeoutError):
            time.sleep(delay)
            delay = min(delay * 2, max_delay)
    return False


_REDIS_LOST_MESSAGE = "Worker %s: could not connect to Redis instance: %s retrying in %d seconds..."
_PR_SET_PDEATHSIG = 1


class _RedisLostFilter(logging.Filter):
    """RQ logs one error per reconnection attempt while Redis is away: count it in the worker's
    outage instead (one line when it starts, one with counts when Redis answers again). One filter
    on RQ's logger, reporting to the process's (latest) worker."""

    outage: Outage | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != _REDIS_LOST_MESSAGE or self.outage is None:
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        self.outage.failed(redis.ConnectionError(str(args[1]) if len(args) > 1 else "Redis lost"))
        return False


_redis_lost_filter = _RedisLostFilter()


class Worker(RQWorker):
    """RQ worker that hands each work horse a PostgreSQL session opened while the previous job
    ran, carries the enqueuing request's id into the job's log lines, logs each job (`jobs`) and
    slow ones (`performance`), notices a killed worker's jobs within a few minutes (short
    maintenance interval), beats a heartbeat into PostgreSQL every WORKER_HEARTBEAT_SECONDS,
    registers itself again when Redis forgot it (restart, flush), and never leaves a work horse
    behind when it dies (the horse gets SIGKILL with its parent, PR_SET_PDEATHSIG)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maintenance_interval", settings.RQ_MAINTENANCE_INTERVAL)
        kwargs.setdefault("job_monitoring_interval", settings.WORKER_HEARTBEAT_SECONDS)
        super().__init__(*args, **kwargs)
        self.redis_outage = Outage(jobs_logger, "jobs.worker_redis")
        self.heartbeat_outage = Outage(jobs_logger, "jobs.worker_heartbeat")
        _redis_lost_filter.outage = self.redis_outage
        if _redis_lost_filter not in self.log.filters:
            self.log.addFilter(_redis_lost_filter)
        self._heartbeat_written = 0.0
        self._own_pid = os.getpid()  # the worker's; a work horse has another

    def work(self, *args: Any, **kwargs: Any) -> bool:
        _preload_for_jobs()
        return super().work(*args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        # An idle worker runs its maintenance (re-queueing a killed worker's jobs) only between two
        # blocking dequeues, which RQ makes last worker_ttl - 15 s: no longer than the interval,
        # nor than the heartbeat period (each dequeue beats).
        return max(1, min(super().dequeue_timeout, self.maintenance_interval, settings.WORKER_HEARTBEAT_SECONDS))

    # --- heartbeats and registration ----------------------------------------------------------
    def register_birth(self) -> None:
        super().register_birth()
        self._heartbeat_write(force=True)

    def register_death(self) -> None:
        super().register_death()
        from config.models import WorkerHeartbeat

        with contextlib.suppress(DatabaseError):
            WorkerHeartbeat.objects.filter(name=self.name).delete()

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        super().heartbeat(timeout, pipeline)  # raises while Redis is away (RQ's loop retries)
        if pipeline is None:
            self.redis_outage.succeeded(worker=self.name)
            self._registration_restore()
        self._heartbeat_write()

    def _registration_restore(self) -> None:
        """Register again when Redis no longer lists this worker (restarted without its data,
        flushed): RQ would not, and /health would report no worker while this one works."""
        if self.connection.sismember(worker_registration.REDIS_WORKER_KEYS, self.key):
            return
        with self.connection.pipeline() as pipe:
            pipe.hset(self.key, mapping=self.serialize())
            worker_registration.register(self, pipe)
            pipe.expire(self.key, self.worker_ttl + 60)
            pipe.execute()
        jobs_logger.warning("jobs.worker_registered_again", extra={"worker": self.name, "queues": self.queue_names()})

    def _heartbeat_write(self, *, force: bool = False) -> None:
        """Upsert this worker's row in PostgreSQL (at most once per WORKER_HEARTBEAT_SECONDS / 2)."""
        now = time.monotonic()
        if os.getpid() != self._own_pid:
            return  # in a work horse: the worker beats
        if not force and now - self._heartbeat_written < settings.WORKER_HEARTBEAT_SECONDS / 2:
            return
        from config.models import WorkerHeartbeat

        database = connections[DEFAULT_DB_ALIAS]
        if database.in_atomic_block:
            return
        seen = timezone.now()
        try:
            WorkerHeartbeat.objects.update_or_create(
                name=self.name,
                defaults={
                    "queues": self.queue_names(),
                    "hostname": socket.gethostname()[:200],
                    "pid": os.getpid(),
                    "last_seen": seen,
                },
                create_defaults={
                    "queues": self.queue_names(),
                    "hostname": socket.gethostname()[:200],
                    "pid": os.getpid(),
                    "last_seen": seen,
                    "started_at": seen,
                },
            )
            # Rows of workers gone for a day (killed without a goodbye) are dropped.
            WorkerHeartbeat.objects.filter(last_seen__lt=seen - timedelta(days=1)).delete()
        except DatabaseError as error:
            self.heartbeat_outage.failed(error, worker=self.name)  # one line per PostgreSQL outage
            database.close()
            return
        self.heartbeat_outage.succeeded(worker=self.name)
        self._heartbeat_written = now

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        # The horse dies with its worker (RQ puts it in a process group of its own, so a signal to
        # the worker's group misses it): a work process never outlives its worker.
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != self._own_pid:  # the worker died before the horse asked
            os._exit(1)
        super().main_work_horse(job, queue)

    def execute_job(self, job: Job, queue: Queue) -> None:
        # RQ quits when Redis goes away while a horse works (its heartbeats fail). Stay instead: let
        # the horse finish, wait for Redis, go on. A job whose end Redis did not record is found
        # abandoned by the maintenance and retried (or dead-lettered) like a killed worker's job.
        try:
            super().execute_job(job, queue)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            jobs_logger.error("jobs.redis_lost", extra={"queue": queue.name, "job_id": job.id, "error": str(error)})
            self._horse_reap()
            # A shutdown asked for meanwhile (SIGTERM) is not waited out: its handler, which asks Redis
            # whether we are busy, may have failed, but it dated the request first.
            if not redis_wait(self.connection, give_up=lambda: self._shutdown_requested_date is not None):
                raise StopRequested from error
            jobs_logger.warning("jobs.redis_back", extra={"worker": self.name})
            self.set_state(WorkerStatus.IDLE)

    def _horse_reap(self) -> None:
        if self.horse_pid:
            with contextlib.suppress(ChildProcessError):  # already reaped
                os.waitpid(self.horse_pid, 0)
            self._horse_pid = 0

    def run_maintenance_tasks(self) -> None:
        # RQ may fork its scheduler here. No PostgreSQL session may be open in the worker then: the
        # scheduler would keep a copy of its socket for life, so a horse killed mid-transaction on
        # that session would leave it, and its row locks, behind.
        connections.close_all()
        super().run_maintenance_tasks()

    def fork_work_horse(self, job: Job, queue: Queue) -> None:
        # The horse inherits a PostgreSQL session the worker opened while the previous job ran, and
        # the worker lets go of it: connecting would otherwise be a large share of a short job.
        # Every other connection is closed, so no socket is shared after the fork.
        database = connections[DEFAULT_DB_ALIAS]
        for alias in connections:
            if alias != DEFAULT_DB_ALIAS:
                connections[alias].close()
        if database.in_atomic_block:  # never hand over an open transaction: the horse connects anew
            database.close()
            super().fork_work_horse(job, queue)
            return
        # Replaced when older than CONN_MAX_AGE; else health-checked (SELECT 1) at first use, so a
        # session that died meanwhile (PostgreSQL restarted) is replaced in the horse.
        database.close_if_unusable_or_obsolete()
        if database.connection is None:
            _session_open(database)
        super().fork_work_horse(job, queue)
        _session_let_go(database)
        _session_open(database)  # for the next horse, while this one works

    def perform_job(self, job: Job, queue: Queue) -> bool:
        set_request_id(job.meta.get("request_id") or job.id)
        fields = {"queue": queue.name, "job_id": job.id, "func": job.func_name, "attempt": _attempt(job)}
        jobs_logger.info("jobs.started", extra=fields)
        started = time.perf_counter()
        try:
            succeeded = super().perform_job(job, queue)
        finally:
            connections.close_all()
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        if succeeded:
            jobs_logger.info("jobs.finished", extra={**fields, "duration_ms": duration_ms})
        else:
            jobs_logger.error("jobs.failed", extra={**fields, "duration_ms": duration_ms})
        if duration_ms > settings.SLOW_JOB_MS:
            performance_logger.warning("performance.slow_job", extra={**fields, "duration_ms": duration_ms})
        return succeeded


def _session_open(database: BaseDatabaseWrapper) -> None:
    """Open a session for the next horse; when PostgreSQL is away the horse tries on its own."""
    try:
        database.ensure_connection()
    except DatabaseError:
        database.close()


def _session_let_go(database: BaseDatabaseWrapper) -> None:
    """Forget, in the worker, the session a horse now owns, without ending it: the worker's copy
    of the socket becomes /dev/null first, so the goodbye libpq sends on closing goes nowhere.
    The session ends when the horse closes it (or dies: the server sees the socket close)."""
    if database.connection is None:
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, database.connection.fileno())
    finally:
        os.close(devnull)
    database.close()


def _attempt(job: Job) -> int:
    if job.retries_left is None or not job.retry_intervals:
        return 1
    return len(job.retry_intervals) - job.retries_left + 1
