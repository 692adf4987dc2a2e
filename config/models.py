"""What the configuration app keeps in PostgreSQL: the workers' heartbeats (config/worker.py).

Heartbeats live here rather than in Redis so that /health can tell a dead worker (no heartbeat
for a while) from one Redis forgot (a restart or flush dropped its registration; it still beats
and registers again on its next heartbeat)."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """One RQ worker process: which queues it serves and when it last showed life."""

    name = models.CharField(max_length=200, unique=True)
    queues = models.JSONField(default=list)
    hostname = models.CharField(max_length=200, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.name} ({', '.join(self.queues)})"
