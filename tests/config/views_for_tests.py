"""Views that exist only in the test URLconf, to exercise the foundation's plumbing."""

import logging

from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from config.domain_errors import DomainError
from config.queues import PROCESS_WEBHOOK, enqueue_on_commit

logger = logging.getLogger("tests")


def record_job(marker: str) -> str:
    logger.info("tests.job.ran", extra={"marker": marker})
    return marker


class EchoSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=10)
    quantity = serializers.IntegerField(min_value=1)


class EchoView(APIView):
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def post(self, request):
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class BoomView(APIView):
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def get(self, request):
        raise RuntimeError("boom")


class OncePerMinute(AnonRateThrottle):
    rate = "1/min"
    scope = "tests"


class ThrottledView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [OncePerMinute]

    def get(self, request):
        return Response({"ok": True})


class EnqueueView(APIView):
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def post(self, request):
        marker = request.data.get("marker", "")
        with transaction.atomic():
            enqueue_on_commit(PROCESS_WEBHOOK, record_job, marker)
            if request.data.get("rollback"):
                transaction.set_rollback(True)
        return Response({"queued": not request.data.get("rollback")}, status=202)


class GoneError(DomainError):
    status = 410
    code = "gone"
    message = "It is gone."


class RefusedView(APIView):
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def post(self, request):
        raise GoneError(details={"thing": ["Gone since yesterday."]})


class SuspiciousView(APIView):
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def get(self, request):
        raise SuspiciousOperation("a malformed multipart boundary")
