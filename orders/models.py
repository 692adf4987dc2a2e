"""Orders: what a buyer placed, its lines, and its timeline.

An order is accepted as `pending` with its stock reserved, forwarded to CJ by the `create-order`
queue (`forwarding` → `placed`), and followed to `shipped` and `delivered` by CJ's webhooks and
the status sweeper. `failed` and `cancelled` release the reservation.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        FORWARDING = "forwarding", "Forwarding to CJ"
        PLACED = "placed", "Placed at CJ"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class FailureReason(models.TextChoices):
        VARIANT_UNAVAILABLE = "variant_unavailable", "Variant unavailable"
        OUT_OF_STOCK = "out_of_stock", "Out of stock"
        LOGISTIC_UNAVAILABLE = "logistic_unavailable", "Logistic unavailable"
        ADDRESS_INVALID = "address_invalid", "Address invalid"
        BALANCE_INSUFFICIENT = "balance_insufficient", "Balance insufficient"
        REJECTED = "rejected", "Rejected by CJ"

    # The only moves an order can make.
    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.PENDING: (Status.FORWARDING, Status.PLACED, Status.FAILED, Status.CANCELLED),
        Status.FORWARDING: (Status.PENDING, Status.PLACED, Status.FAILED, Status.CANCELLED),
        Status.PLACED: (Status.SHIPPED, Status.DELIVERED, Status.CANCELLED),
        Status.SHIPPED: (Status.DELIVERED,),
        Status.DELIVERED: (),
        Status.FAILED: (Status.PENDING, Status.CANCELLED),
        Status.CANCELLED: (),
    }
    # Statuses whose stock is held for the order (CJ has not taken it yet).
    RESERVING_STATUSES = (Status.PENDING, Status.FORWARDING)
    # Statuses of orders CJ has taken: their units are ours until a CJ stock figure taken after
    # `placed_at` counts them (catalog.stock).
    PLACED_STATUSES = (Status.PLACED, Status.SHIPPED, Status.DELIVERED)

    number = models.CharField(max_length=20, unique=True, help_text="Public number; CJ's orderNumber.")
    customer = models.ForeignKey("crm.Customer", on_delete=models.PROTECT, related_name="orders")
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=32, blank=True)
    shipping_name = models.CharField(max_length=50)
    shipping_line1 = models.CharField("address line 1", max_length=200)
    shipping_line2 = models.CharField("address line 2", max_length=200, blank=True)
    shipping_city = models.CharField("city", max_length=50)
    shipping_province = models.CharField("province", max_length=50)
    shipping_zip = models.CharField("zip", max_length=20, blank=True)
    shipping_country_code = models.CharField("country code", max_length=2)
    logistic_name = models.CharField(max_length=50)
    currency = models.CharField(max_length=3, default="USD")
    items_total = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    total = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    status_changed_at = models.DateTimeField()
    placed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the order went to CJ (CJ's stock figures taken later count it)."
    )
    cj_order_id = models.CharField("CJ order id", max_length=64, blank=True)
    cj_status = models.CharField("CJ status", max_length=20, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    failure_reason = models.CharField(max_length=24, choices=FailureReason.choices, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    cj_checked_at = models.DateTimeField("CJ status checked at", null=True, blank=True)
    last_cj_response = models.JSONField(null=True, blank=True, help_text="The last answer CJ gave about it.")
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    request_hash = models.CharField(max_length=64, blank=True)
    access_token = models.CharField(max_length=64, help_text="Lets the buyer read this order.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="orders_order_total_non_negative"),
            models.CheckConstraint(
                condition=Q(
                    status__in=["pending", "forwarding", "placed", "shipped", "delivered", "failed", "cancelled"]
                ),
                name="orders_order_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "status_changed_at"], name="orders_status_changed_idx"),
            models.Index(fields=["shipping_country_code"], name="orders_country_idx"),
            models.Index(fields=["failure_reason"], name="orders_failure_idx"),
            models.Index(fields=["cj_order_id"], name="orders_cj_order_idx"),
            models.Index(fields=["email"], name="orders_email_idx"),
            models.Index(fields=["placed_at"], name="orders_placed_at_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]

    @property
    def is_reserving_stock(self) -> bool:
        return self.status in self.RESERVING_STATUSES


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="order_items")
    quantity = models.PositiveSmallIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, help_text="Our price when ordered.")
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2, help_text="CJ's cost when ordered.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1, quantity__lte=99), name="orders_item_quantity_1_99"),
            models.UniqueConstraint(fields=["order", "variant"], name="orders_item_variant_once"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x variant {self.variant_id}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class OrderEvent(models.Model):
    """One entry of an order's timeline."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    staff_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} → {self.to_status or '-'}"
