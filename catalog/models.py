"""Catalog: categories, products and variants mirrored from CJ, priced by our rule, and the
record of every sync run.

Products and variants are written in bulk by `catalog.sync`; `Product.min_price`,
`max_price` and `is_in_stock` are denormalised from the active variants (kept by
`catalog.services.products_aggregates_refresh`) so the storefront list is one indexed query.
"""

from decimal import Decimal

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper


class Category(models.Model):
    cj_category_id = models.CharField("CJ category id", max_length=64, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name", "id")
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    # Unique by a constraint, not `unique=True`, which would add a second, LIKE-only index that
    # nothing uses and every insert pays for.
    cj_pid = models.CharField("CJ pid", max_length=64)
    sku = models.CharField("SKU", max_length=100, blank=True)
    name = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    images = models.JSONField(default=list, blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Staff edits win: a sync never overwrites a field whose flag is set.
    has_staff_name = models.BooleanField(default=False, help_text="The name was edited by staff; sync keeps it.")
    has_staff_description = models.BooleanField(
        default=False, help_text="The description was edited by staff; sync keeps it."
    )
    # CJ's listing price range, kept to notice a change in the product list without a detail call.
    cj_price_low = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    cj_price_high = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    # Denormalised from the active variants.
    min_price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    max_price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="USD")
    is_in_stock = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(null=True, blank=True, help_text="Last full sync that found it at CJ.")
    consecutive_misses = models.PositiveSmallIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True, help_text="Last time CJ data changed it.")
    # The points plan's clocks (catalog.stock_plan): when CJ's stock was last read or pushed for
    # it (a refresh, a STOCK or VARIANT webhook), and when a buyer last quoted or ordered it.
    stock_checked_at = models.DateTimeField(null=True, blank=True, help_text="Last time CJ's stock was read or pushed.")
    demand_at = models.DateTimeField(null=True, blank=True, help_text="Last quote or order of one of its variants.")
    # Drafts (imported, not yet published) are invisible to the storefront: list, detail, category
    # counts and order intake (`catalog.selectors.storefront_products`). The database default
    # makes the sync's raw INSERT create drafts too; products synced before curation were published
    # by the migration.
    is_published = models.BooleanField(
        "published", default=False, db_default=False, help_text="Shown and sold on the storefront."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-id",)
        indexes = [
            models.Index(fields=["status", "min_price", "id"], name="catalog_product_price_idx"),
            models.Index(fields=["status", "name", "id"], name="catalog_product_name_idx"),
            models.Index(fields=["status", "category", "id"], name="catalog_product_category_idx"),
            models.Index(fields=["status", "is_in_stock", "id"], name="catalog_product_stock_idx"),
            models.Index(Upper("sku"), name="catalog_product_sku_idx"),
            # `q` searches names with icontains (UPPER(name) LIKE '%…%'): a trigram index serves it.
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="catalog_product_name_trgm"),
            models.Index(fields=["updated_at"], name="catalog_product_updated_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["cj_pid"], name="catalog_product_cj_pid_uniq"),
            models.CheckConstraint(condition=Q(status__in=["active", "inactive"]), name="catalog_product_status_valid"),
            models.CheckConstraint(
                condition=Q(min_price__lte=models.F("max_price")), name="catalog_product_price_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def main_image(self) -> str:
        return self.images[0] if self.images else ""


class Variant(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    cj_vid = models.CharField("CJ vid", max_length=64)  # unique by a constraint, as Product.cj_pid
    # Served by the (product, status) index below; a second index on product alone would only
    # slow the sync's writes.
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants", db_index=False)
    sku = models.CharField("SKU", max_length=100, blank=True)
    name = models.CharField(max_length=500, blank=True)
    option_values = models.JSONField(default=list, blank=True, help_text="CJ's variantKey split: values only.")
    # Named by the product's productKeyEn: [{"name": "Color", "value": "Black"}, ...]
    # (integrations.cj.coercion.named_options), what a storefront draws its pickers from.
    # db_default: rows written by plain SQL that names no options (bench scripts) start empty.
    options = models.JSONField(
        default=list, db_default=[], blank=True, help_text='[{"name": "Color", "value": "Black"}, ...]'
    )
    image = models.URLField(max_length=1000, blank=True)
    supplier_cost = models.DecimalField(max_digits=12, decimal_places=2, help_text="CJ's price to us.")
    price = models.DecimalField(max_digits=12, decimal_places=2, help_text="Our price (the pricing rule).")
    currency = models.CharField(max_length=3, default="USD")
    # What we sell: CJ's figure minus the units of our orders CJ has not counted yet (kept by
    # `catalog.stock`, under the variant's row lock, at every change of either side).
    stock = models.IntegerField(default=0, help_text="Units we sell: CJ's figure minus our orders CJ has not counted.")
    # CJ's own figure (all warehouses) and when it was taken; never decremented by our orders.
    cj_stock = models.IntegerField("CJ stock", default=0, help_text="CJ's latest figure, all warehouses.")
    stock_updated_at = models.DateTimeField(null=True, blank=True, help_text="When CJ's stock figure was taken.")
    weight_grams = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # A CJ cost change too large to trust at once (`catalog.pricing.cost_change_is_held`) waits
    # here for staff; until then the variant keeps its cost and price.
    pending_supplier_cost = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="CJ's new cost, held for staff review."
    )
    pending_since = models.DateTimeField(null=True, blank=True, help_text="When CJ's new cost was first held.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("price", "id")
        indexes = [
            models.Index(fields=["product", "status"], name="catalog_variant_product_idx"),
            models.Index(Upper("sku"), name="catalog_variant_sku_idx"),
            models.Index(
                fields=["pending_since"], name="catalog_variant_held_idx", condition=Q(pending_since__isnull=False)
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["cj_vid"], name="catalog_variant_cj_vid_uniq"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="catalog_variant_stock_non_negative"),
            models.CheckConstraint(condition=Q(cj_stock__gte=0), name="catalog_variant_cj_stock_non_negative"),
            models.CheckConstraint(
                condition=Q(stock__lte=models.F("cj_stock")), name="catalog_variant_stock_within_cj"
            ),
            models.CheckConstraint(condition=Q(supplier_cost__gte=0), name="catalog_variant_cost_non_negative"),
            models.CheckConstraint(condition=Q(price__gte=0), name="catalog_variant_price_non_negative"),
            models.CheckConstraint(condition=Q(status__in=["active", "inactive"]), name="catalog_variant_status_valid"),
            models.CheckConstraint(
                condition=Q(pending_supplier_cost__isnull=True, pending_since__isnull=True)
                | Q(pending_supplier_cost__gt=0, pending_since__isnull=False),
                name="catalog_variant_pending_cost_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.sku or self.cj_vid

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_held(self) -> bool:
        return self.pending_supplier_cost is not None


class SyncRun(models.Model):
    class Kind(models.TextChoices):
        FULL = "full", "Full product sync"
        INCREMENTAL = "incremental", "Incremental product sync"
        PRODUCT = "product", "Single product refresh"
        STOCK = "stock", "Stock refresh"
        IMPORT = "import", "Import from CJ"
        DISCOVERY = "discovery", "Import rules run"

    class Trigger(models.TextChoices):
        COMMAND = "command", "Management command"
        API = "api", "API"
        ADMIN = "admin", "Admin"
        SCHEDULER = "scheduler", "Scheduler"
        BOOTSTRAP = "bootstrap", "First run"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    trigger = models.CharField(max_length=12, choices=Trigger.choices, default=Trigger.COMMAND)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    job_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    pages_done = models.PositiveIntegerField(default=0)
    total_pages = models.PositiveIntegerField(default=0)
    checkpoint = models.JSONField(default=dict, blank=True, help_text="Where a resumed run continues.")
    resumed_count = models.PositiveSmallIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    deactivated_count = models.PositiveIntegerField(default=0)
    variants_written = models.PositiveIntegerField(default=0)
    cj_calls = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-started_at", "-id")
        indexes = [models.Index(fields=["kind", "status", "started_at"], name="catalog_syncrun_kind_idx")]
        permissions = [("start_sync", "Can start or resume a products sync")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"


class ImportRule(models.Model):
    """What staff want in the shop, as a CJ search: a scheduled run turns new matches into candidates.

    A run asks `listV2` for its filters (keyword or CJ category, ship-from country, cost bounds)
    one page at a time, continuing where the last run stopped (`next_page`), within the discovery
    points allowance (`catalog.discovery.discovery_points_allowance`, the points plan's discovery share).
    """

    name = models.CharField(max_length=200)
    keyword = models.CharField(max_length=200, blank=True, help_text="CJ search words (name or SKU).")
    cj_category_id = models.CharField("CJ category id", max_length=64, blank=True, help_text="A third-level category.")
    ship_from_country = models.CharField(
        max_length=2, blank=True, help_text="Warehouse country (2 letters), e.g. CN, US; empty: any."
    )
    min_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, help_text="CJ cost, USD.")
    max_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, help_text="CJ cost, USD.")
    min_stock = models.PositiveIntegerField(default=0, help_text="Units CJ must list, all warehouses together.")
    auto_publish = models.BooleanField(
        default=False, help_text="Approved candidates go on sale at once instead of staying drafts."
    )
    auto_approve = models.BooleanField(default=False, help_text="Import every match without staff review.")
    is_active = models.BooleanField(default=True, help_text="Run by the scheduler.")
    pages_per_run = models.PositiveSmallIntegerField(default=1, help_text="listV2 pages one run may read.")
    next_page = models.PositiveIntegerField(default=1, help_text="Where the next run continues.")
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name", "id")
        constraints = [
            models.CheckConstraint(
                condition=~Q(keyword="") | ~Q(cj_category_id=""), name="catalog_importrule_keyword_or_category"
            ),
            models.CheckConstraint(
                condition=Q(min_cost__isnull=True) | Q(max_cost__isnull=True) | Q(min_cost__lte=models.F("max_cost")),
                name="catalog_importrule_cost_bounds",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ImportCandidate(models.Model):
    """A CJ product a rule found (or staff picked), waiting for staff: approve imports it, reject drops it."""

    class Status(models.TextChoices):
        NEW = "new", "Waiting for review"
        IMPORTED = "imported", "Imported"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Import failed"

    cj_pid = models.CharField("CJ pid", max_length=64)
    rule = models.ForeignKey(ImportRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="candidates")
    name = models.CharField(max_length=500)
    sku = models.CharField("SKU", max_length=100, blank=True)
    image = models.URLField(max_length=1000, blank=True)
    cj_cost_low = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    cj_cost_high = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    stock = models.IntegerField(default=0, help_text="Units CJ listed when it was found.")
    cj_category_id = models.CharField("CJ category id", max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["status", "created_at"], name="catalog_candidate_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["cj_pid"], name="catalog_candidate_cj_pid_uniq"),
            models.CheckConstraint(
                condition=Q(status__in=["new", "imported", "rejected", "failed"]), name="catalog_candidate_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.cj_pid})"
