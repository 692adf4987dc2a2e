"""GET /api/jobs/{job_id}: the status, result or error of one RQ job.

Staff with the job dashboard's permission read any job; staff who may start a products sync
(`catalog.start_sync`, the ones handed a status URL by `POST /api/products/sync`) read the jobs of
`sync-products` only, and get 404 for the others, as for an unknown id."""

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rq.exceptions import NoSuchJobError
from rq.job import Job

from config.job_dashboard import DASHBOARD_PERMISSION
from config.permissions import staff_any_permission
from config.queues import SYNC_PRODUCTS, get_queue

SYNC_PERMISSION = "catalog.start_sync"
NO_SUCH_JOB = "No such job (finished jobs are kept for a limited time)."


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def _error(job: Job) -> str | None:
    result = job.latest_result()
    if result is None or not result.exc_string:
        return None
    # The exception line only: tracebacks stay in the logs.
    return result.exc_string.strip().splitlines()[-1][:500]


class JobStatusView(APIView):
    """GET /api/jobs/{job_id} (staff with the dashboard or the sync permission): status, result or error of a job."""

    permission_classes = staff_any_permission(DASHBOARD_PERMISSION, SYNC_PERMISSION)

    @extend_schema(
        responses=inline_serializer(
            "JobStatus",
            {
                "job_id": serializers.CharField(),
                "queue": serializers.CharField(),
                "func": serializers.CharField(allow_null=True),
                "status": serializers.CharField(
                    allow_null=True, help_text="RQ's: queued, started, deferred, finished, failed, scheduled..."
                ),
                "enqueued_at": serializers.DateTimeField(allow_null=True),
                "started_at": serializers.DateTimeField(allow_null=True),
                "ended_at": serializers.DateTimeField(allow_null=True),
                "result": serializers.JSONField(allow_null=True, help_text="The job's return value once finished."),
                "error": serializers.CharField(allow_null=True, help_text="The exception's last line once failed."),
            },
        )
    )
    def get(self, request: Request, job_id: str) -> Response:
        # Every queue lives on the same Redis (REDIS_URL).
        connection = get_queue(SYNC_PRODUCTS).connection
        try:
            job = Job.fetch(job_id, connection=connection)
        except NoSuchJobError as error:
            raise NotFound(NO_SUCH_JOB) from error
        if not request.user.has_perm(DASHBOARD_PERMISSION) and job.origin != SYNC_PRODUCTS:
            raise NotFound(NO_SUCH_JOB)
        status = job.get_status(refresh=False)
        return Response(
            {
                "job_id": job.id,
                "queue": job.origin,
                "func": job.func_name,
                "status": status.value if status else None,
                "enqueued_at": _iso(job.enqueued_at),
                "started_at": _iso(job.started_at),
                "ended_at": _iso(job.ended_at),
                "result": job.return_value() if status and status.value == "finished" else None,
                "error": _error(job) if status and status.value == "failed" else None,
            }
        )
