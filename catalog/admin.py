"""Catalog admin: products with their variants (publish / unpublish); variants whose CJ cost change is held for review
(accept or keep, and a dashboard count); sync runs with a "Sync now" button and a "resume" action."""

from typing import Any

import redis
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import URLPattern, path, reverse

# Registers the curated catalog's pages (CJ search and import, import rules, candidates).
from catalog import admin_curation  # noqa: F401
from catalog.curation import products_publish
from catalog.jobs import product_refresh_enqueue, products_sync_enqueue, stock_run_resume_enqueue
from catalog.models import Category, ImportCandidate, Product, SyncRun, Variant
from catalog.pricing import current_rule
from catalog.services import product_update_by_staff, variant_pending_cost_accept, variant_pending_cost_reject
from catalog.sync.runs import run_resumable_get
from config.admin_columns import short_datetime, status_badge
from config.dashboard import DashboardItem, DashboardPanel, dashboard_panel_register


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    can_delete = False
    fields = (
        "cj_vid",
        "sku",
        "option_values",
        "supplier_cost",
        "pending_supplier_cost",
        "price",
        "stock",
        "cj_stock",
        "status",
    )
    readonly_fields = fields
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InStockFilter(admin.SimpleListFilter):
    title = "in stock"
    parameter_name = "in_stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(is_in_stock=self.value() == "yes")
        return queryset


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "cj_pid",
        "category",
        "status",
        "is_published",
        "min_price",
        "max_price",
        "is_in_stock",
        "last_synced_at",
    )
    list_filter = ("status", "is_published", InStockFilter, "category", "has_staff_name")
    search_fields = ("name", "sku", "cj_pid", "variants__sku", "variants__cj_vid")
    search_help_text = "Name, SKU (product or variant) or CJ id."
    list_select_related = ("category",)
    show_full_result_count = False
    inlines = [VariantInline]
    actions = ["refresh_from_cj", "publish", "unpublish"]
    fields = (
        "name",
        "description",
        "status",
        "is_published",
        "cj_pid",
        "sku",
        "category",
        "images",
        "min_price",
        "max_price",
        "currency",
        "is_in_stock",
        "has_staff_name",
        "has_staff_description",
        "last_seen_at",
        "consecutive_misses",
        "last_synced_at",
        "pricing_rule",
    )
    readonly_fields = tuple(name for name in fields if name not in ("name", "description", "status"))

    @admin.display(description="pricing rule")
    def pricing_rule(self, obj: Product) -> str:
        return current_rule().describe()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # products come from CJ

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        product_update_by_staff(product=obj, name=obj.name, description=obj.description, status=obj.status)

    def has_start_sync_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("catalog.start_sync")

    @admin.action(description="Publish (on sale in the storefront)", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet) -> None:
        changed = products_publish(product_ids=queryset.values_list("pk", flat=True), published=True)
        self.message_user(request, f"{changed} product(s) published.", messages.SUCCESS)

    @admin.action(description="Unpublish (back to draft: not shown, not sold)", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet) -> None:
        changed = products_publish(product_ids=queryset.values_list("pk", flat=True), published=False)
        self.message_user(request, f"{changed} product(s) back to draft.", messages.SUCCESS)

    # A refresh spends CJ quota like a sync, so it needs the same permission.
    @admin.action(description="Refresh from CJ", permissions=["start_sync"])
    def refresh_from_cj(self, request: HttpRequest, queryset: QuerySet) -> None:
        try:
            jobs = [product_refresh_enqueue(cj_pid=cj_pid) for cj_pid in queryset.values_list("cj_pid", flat=True)]
        except redis.RedisError:
            self.message_user(request, "The job queue is unavailable; try again shortly.", messages.ERROR)
            return
        self.message_user(request, f"{len(jobs)} product refresh(es) queued on sync-products.", messages.SUCCESS)


class HeldFilter(admin.SimpleListFilter):
    title = "price change held"
    parameter_name = "held"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Held for review"), ("no", "Not held")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(pending_supplier_cost__isnull=self.value() == "no")
        return queryset


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    """Variants as CJ sells them; the ones whose cost change was held wait here for a decision."""

    list_display = (
        "cj_vid",
        "sku",
        "product",
        "supplier_cost",
        "pending_supplier_cost",
        "cost_change",
        "price",
        "pending_since",
        "status",
    )
    list_filter = (HeldFilter, "status")
    search_fields = ("cj_vid", "sku", "product__name", "product__cj_pid")
    list_select_related = ("product",)
    show_full_result_count = False
    actions = ["accept_new_cost", "keep_current_cost"]
    readonly_fields = [field.name for field in Variant._meta.fields]

    @admin.display(description="change")
    def cost_change(self, obj: Variant) -> str:
        if obj.pending_supplier_cost is None or obj.supplier_cost <= 0:
            return ""
        percent = (obj.pending_supplier_cost - obj.supplier_cost) * 100 / obj.supplier_cost
        return f"{percent:+.0f} %"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # variants come from CJ

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Accept new cost (re-price by the rule)", permissions=["change"])
    def accept_new_cost(self, request: HttpRequest, queryset: QuerySet) -> None:
        decided = [variant_pending_cost_accept(variant_id=pk) for pk in queryset.values_list("pk", flat=True)]
        self._report(request, count=sum(1 for variant in decided if variant is not None), verb="re-priced")

    @admin.action(description="Keep current cost and price", permissions=["change"])
    def keep_current_cost(self, request: HttpRequest, queryset: QuerySet) -> None:
        decided = [variant_pending_cost_reject(variant_id=pk) for pk in queryset.values_list("pk", flat=True)]
        self._report(request, count=sum(1 for variant in decided if variant is not None), verb="kept as they were")

    def _report(self, request: HttpRequest, *, count: int, verb: str) -> None:
        if count:
            self.message_user(request, f"{count} held variant(s) {verb}.", messages.SUCCESS)
        else:
            self.message_user(request, "None of the selected variants has a held cost.", messages.WARNING)


def catalog_panels(request: HttpRequest) -> Any:
    """The dashboard's count of variants whose CJ cost change waits for staff."""
    if not request.user.has_perm("catalog.view_variant"):
        return
    held = Variant.objects.filter(pending_supplier_cost__isnull=False).count()
    url = reverse("admin:catalog_variant_changelist") + "?held=yes"
    items = [
        DashboardItem(label="Price changes held for review", value=held, url=url, badge="warning" if held else "ok")
    ]
    if request.user.has_perm("catalog.view_importcandidate"):
        waiting = ImportCandidate.objects.filter(status=ImportCandidate.Status.NEW).count()
        candidates_url = reverse("admin:catalog_importcandidate_changelist") + "?status__exact=new"
        items.append(DashboardItem(label="Import candidates waiting for review", value=waiting, url=candidates_url))
    yield DashboardPanel(key="catalog-held", title="Catalog", kind="stats", order=40, items=tuple(items))


dashboard_panel_register(catalog_panels)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "cj_category_id", "updated_at")
    search_fields = ("name", "cj_category_id")


def _count_column(field: str, header: str) -> Any:
    """A SyncRun count as a list column with a short header (the field's own name is "created count")."""

    @admin.display(description=header, ordering=field)
    def column(model_admin: admin.ModelAdmin, run: SyncRun) -> int:
        return int(getattr(run, field))

    return column


SYNC_RUN_BADGES: dict[str, str] = {
    SyncRun.Status.RUNNING: "warning",
    SyncRun.Status.SUCCEEDED: "ok",
    SyncRun.Status.FAILED: "danger",
}


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    # Chosen for 1366 px: every count stays in view beside the filters (short headers, short dates).
    list_display = (
        "id",
        "kind",
        "status_badge",
        "started",
        "duration",
        "pages",
        "created",
        "updated",
        "unchanged",
        "failed",
        "deactivated",
        "calls",
    )
    list_filter = ("kind", "status", "trigger")
    readonly_fields = [field.name for field in SyncRun._meta.fields]
    actions = ["resume"]

    class Media:
        css = {"all": ("crm/admin.css", "backoffice/admin.css")}

    @admin.display(description="status", ordering="status")
    def status_badge(self, run: SyncRun) -> str:
        return status_badge(SYNC_RUN_BADGES[run.status], run.get_status_display())

    @admin.display(description="started", ordering="started_at")
    def started(self, run: SyncRun) -> str:
        return short_datetime(run.started_at)

    @admin.display(description="took")
    def duration(self, run: SyncRun) -> str:
        if run.finished_at is None:
            return "-"
        seconds = max(0, round((run.finished_at - run.started_at).total_seconds()))
        return f"{seconds // 60}:{seconds % 60:02d} min" if seconds >= 60 else f"{seconds} s"

    @admin.display(description="pages")
    def pages(self, run: SyncRun) -> str:
        return f"{run.pages_done} / {run.total_pages or '?'}"

    created = _count_column("created_count", "created")
    updated = _count_column("updated_count", "updated")
    unchanged = _count_column("unchanged_count", "unchanged")
    failed = _count_column("failed_count", "failed")
    deactivated = _count_column("deactivated_count", "deactivated")
    calls = _count_column("cj_calls", "CJ calls")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_start_sync_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("catalog.start_sync")

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        extra_context = {
            **(extra_context or {}),
            "subtitle": f"Pricing rule: {current_rule().describe()}",
            "can_start_sync": self.has_start_sync_permission(request),
            "sync_kinds": [(SyncRun.Kind.INCREMENTAL, "Sync now"), (SyncRun.Kind.FULL, "Full sync now")],
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self) -> list[URLPattern]:
        extra = [path("sync-now/", self.admin_site.admin_view(self.sync_now_view), name="catalog_syncrun_sync_now")]
        return extra + super().get_urls()

    def sync_now_view(self, request: HttpRequest) -> HttpResponseRedirect | HttpResponseNotAllowed:
        """POST (the changelist's "Sync now" button): queue a products sync, back to the changelist."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_start_sync_permission(request):
            raise PermissionDenied
        kind = request.POST.get("kind", SyncRun.Kind.INCREMENTAL)
        if kind not in (SyncRun.Kind.INCREMENTAL, SyncRun.Kind.FULL):
            self.message_user(request, f"Unknown sync kind {kind!r}.", messages.ERROR)
        else:
            self._enqueue(request, kind=kind)
        return HttpResponseRedirect(reverse("admin:catalog_syncrun_changelist"))

    def _enqueue(self, request: HttpRequest, **kwargs: Any) -> None:
        try:
            job = products_sync_enqueue(trigger=SyncRun.Trigger.ADMIN, **kwargs)
        except redis.RedisError:
            self.message_user(request, "The job queue is unavailable; try again shortly.", messages.ERROR)
            return
        self.message_user(request, f"Sync queued on sync-products (job {job.id}).", messages.SUCCESS)

    @admin.action(description="Resume the selected unfinished run (products or stock)", permissions=["start_sync"])
    def resume(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Continue one stopped, interrupted or abandoned products or stock run from its checkpoint:
        the runs `manage.py sync_cj resume` continues (`run_resumable_get`), each on its queue."""
        selected = list(queryset[:2])
        if len(selected) != 1:
            self.message_user(request, "Select exactly one unfinished products or stock run.", messages.WARNING)
            return
        run = run_resumable_get(run_id=selected[0].pk)
        if run is None:
            self.message_user(
                request,
                f"{selected[0]} cannot be resumed: only an unfinished (running or failed) products or stock run can.",
                messages.WARNING,
            )
            return
        if run.kind != SyncRun.Kind.STOCK:
            self._enqueue(request, kind=run.kind, run_id=run.pk)
            return
        try:
            job = stock_run_resume_enqueue(run_id=run.pk)
        except redis.RedisError:
            self.message_user(request, "The job queue is unavailable; try again shortly.", messages.ERROR)
            return
        self.message_user(
            request,
            f"Stock refresh #{run.pk} queued to resume after page {run.pages_done} on update-stock (job {job.id}).",
            messages.SUCCESS,
        )
