"""Orders: what a buyer placed, its lines, and its timeline.

An order is accepted as `awaiting_payment` with its stock reserved and a Stripe PaymentIntent; the
buyer's payment (Stripe's `payment_intent.succeeded`) makes it `paid`, and only then is it forwarded
to CJ by the `create-order` queue (`forwarding` → `placed`) and followed to `shipped` and
`delivered` by CJ's webhooks and the status sweeper. Unpaid in time it `expired`; `failed`,
`cancelled` and `expired` release the reservation, and a paid order that CJ will not ship is
`refunded` (orders/payment_flow.py).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class Order(models.Model):
    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
        PAID = "paid", "Paid"
        FORWARDING = "forwarding", "Forwarding to CJ"
        PLACED = "placed", "Placed at CJ"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired (unpaid)"
        REFUNDED = "refunded", "Refunded"

    class FailureReason(models.TextChoices):
        VARIANT_UNAVAILABLE = "variant_unavailable", "Variant unavailable"
        OUT_OF_STOCK = "out_of_stock", "Out of stock"
        LOGISTIC_UNAVAILABLE = "logistic_unavailable", "Logistic unavailable"
        ADDRESS_INVALID = "address_invalid", "Address invalid"
        BALANCE_INSUFFICIENT = "balance_insufficient", "Balance insufficient"
        REJECTED = "rejected", "Rejected by CJ"

    # The only moves an order can make.
    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.AWAITING_PAYMENT: (Status.PAID, Status.EXPIRED, Status.CANCELLED, Status.REFUNDED),
        Status.PAID: (Status.FORWARDING, Status.PLACED, Status.FAILED, Status.CANCELLED),
        Status.FORWARDING: (Status.PAID, Status.PLACED, Status.FAILED, Status.CANCELLED),
        Status.PLACED: (Status.SHIPPED, Status.DELIVERED, Status.CANCELLED),
        Status.SHIPPED: (Status.DELIVERED,),
        Status.DELIVERED: (),
        Status.FAILED: (Status.PAID, Status.CANCELLED, Status.REFUNDED),
        Status.CANCELLED: (Status.REFUNDED,),
        Status.EXPIRED: (Status.REFUNDED,),
        Status.REFUNDED: (),
    }
    # Statuses whose stock is held for the order (CJ has not taken it yet).
    RESERVING_STATUSES = (Status.AWAITING_PAYMENT, Status.PAID, Status.FORWARDING)
    # Statuses of orders CJ has taken: their units are ours until a CJ stock figure taken after
    # `placed_at` counts them (catalog.stock).
    PLACED_STATUSES = (Status.PLACED, Status.SHIPPED, Status.DELIVERED)

    class PaymentProvider(models.TextChoices):
        STRIPE = "stripe", "Stripe"
        EXTERNAL = "external", "External (storefront)"

    class CJPaymentStatus(models.TextChoices):
        """Paying CJ for a placed order from the CJ balance (orders/cj_payment.py); not a status."""

        NONE = "", "Not due"
        DUE = "due", "Due"
        HELD = "held", "Held for staff approval"
        WAITING_BALANCE = "waiting_balance", "Waiting for CJ balance"
        PAID = "paid", "Paid at CJ"

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
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING_PAYMENT)
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
    # The buyer's payment (orders/payment_flow.py). Amounts are in `currency`.
    payment_provider = models.CharField(max_length=10, choices=PaymentProvider.choices, default=PaymentProvider.STRIPE)
    payment_intent_id = models.CharField("Stripe PaymentIntent", max_length=64, blank=True)
    payment_reference = models.CharField(
        max_length=100, blank=True, help_text="External mode: the storefront's own payment reference."
    )
    paid_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_held = models.BooleanField(
        default=False, help_text="A payment that does not match the order (amount or currency): for staff."
    )
    payment_hold_reason = models.CharField(max_length=200, blank=True)
    refund_id = models.CharField("Stripe refund", max_length=64, blank=True)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    refunded_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    request_hash = models.CharField(max_length=64, blank=True)
    access_token = models.CharField(max_length=64, help_text="Lets the buyer read this order.")
    # --- paying CJ (orders/cj_payment.py) ---
    cj_payment_status = models.CharField(
        "CJ payment", max_length=16, choices=CJPaymentStatus.choices, blank=True, default=CJPaymentStatus.NONE
    )
    cj_order_amount = models.DecimalField(
        "CJ order amount", max_digits=12, decimal_places=2, null=True, blank=True, help_text="CJ's orderAmount, USD."
    )
    cj_paid_amount = models.DecimalField("paid at CJ", max_digits=12, decimal_places=2, null=True, blank=True)
    cj_paid_at = models.DateTimeField("paid at CJ at", null=True, blank=True)
    cj_payment_approved_at = models.DateTimeField(
        "CJ payment approved at", null=True, blank=True, help_text="Staff approved paying beyond the cost guard."
    )
    cj_shipment_order_id = models.CharField("CJ shipment order id", max_length=64, blank=True)
    cj_pay_id = models.CharField("CJ pay id", max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="orders_order_total_non_negative"),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "awaiting_payment",
                        "paid",
                        "forwarding",
                        "placed",
                        "shipped",
                        "delivered",
                        "failed",
                        "cancelled",
                        "expired",
                        "refunded",
                    ]
                ),
                name="orders_order_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(cj_payment_status__in=["", "due", "held", "waiting_balance", "paid"]),
                name="orders_order_cj_payment_status_valid",
            ),
        ]
        permissions = [("approve_cj_payment", "Can approve a held payment at CJ")]
        indexes = [
            models.Index(fields=["status", "status_changed_at"], name="orders_status_changed_idx"),
            models.Index(fields=["shipping_country_code"], name="orders_country_idx"),
            models.Index(fields=["failure_reason"], name="orders_failure_idx"),
            models.Index(fields=["cj_order_id"], name="orders_cj_order_idx"),
            models.Index(fields=["email"], name="orders_email_idx"),
            models.Index(fields=["placed_at"], name="orders_placed_at_idx"),
            models.Index(fields=["payment_intent_id"], name="orders_payment_intent_idx"),
            models.Index(fields=["cj_payment_status"], name="orders_cj_payment_idx"),
            models.Index(fields=["cj_paid_at"], name="orders_cj_paid_at_idx"),
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
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    staff_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} → {self.to_status or '-'}"
