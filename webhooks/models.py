"""The webhook inbox: every signed message a provider pushed, stored before it is acknowledged.

A message is stored once per provider and `messageId` (a redelivery changes nothing), then
processed by the `process-webhook` queue, which records what happened on the row.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class WebhookEvent(models.Model):
    class Provider(models.TextChoices):
        CJ = "cj", "CJ Dropshipping"
        STRIPE = "stripe", "Stripe"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    # Statuses after which processing never runs again (unless staff replay the event).
    FINAL_STATUSES = (Status.PROCESSED, Status.IGNORED, Status.FAILED)

    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.CJ)
    message_id = models.CharField("message id", max_length=128)
    topic = models.CharField(
        "type",
        max_length=32,
        help_text="CJ's `type` (PRODUCT, VARIANT, STOCK, ORDER, …) or Stripe's (payment_intent.succeeded, …)",
    )
    message_type = models.CharField(max_length=32, blank=True, help_text="CJ's `messageType`: INSERT, UPDATE, …")
    raw_body = models.TextField(help_text="The body exactly as received (what the signature covers).")
    headers = models.JSONField(default=dict, blank=True, help_text="Request headers, without credentials.")
    params = models.JSONField(default=dict, blank=True, help_text="The message's parsed `params`.")
    remote_addr = models.GenericIPAddressField("client address", null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Processing attempts so far.")
    outcome = models.CharField(max_length=500, blank=True, help_text="What processing did.")
    error = models.TextField(blank=True, help_text="The last processing error.")
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-received_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["provider", "message_id"], name="webhooks_event_message_once"),
            models.CheckConstraint(
                condition=Q(status__in=["received", "processed", "ignored", "failed"]),
                name="webhooks_event_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="webhooks_event_status_idx"),
            models.Index(fields=["topic", "received_at"], name="webhooks_event_topic_idx"),
            models.Index(fields=["received_at"], name="webhooks_event_received_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.message_id}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES
