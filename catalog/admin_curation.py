"""The curated catalog in the admin: CJ search and import (Catalog → Import rules → "Search CJ"),
import rules (run now), candidates (approve or reject in bulk).

Everything here that calls CJ spends points, so it needs `catalog.start_sync`. One product is
imported inline (the page shows it at once); several go to `sync-products` as one import run.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

import redis
from csp.constants import SELF
from csp.decorators import csp_update
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from catalog.curation import ImportRef, import_ref_parse, products_import
from catalog.discovery import SearchFilters, candidates_approve, candidates_reject, cj_search
from catalog.jobs import candidates_approve_enqueue, import_rules_run_enqueue, products_import_enqueue
from catalog.models import ImportCandidate, ImportRule, SyncRun
from catalog.pricing import current_rule
from config.domain_errors import DomainError
from integrations.cj.errors import CJError

QUEUE_DOWN = "The job queue is unavailable; try again shortly."
# CJ's product images come from CJ's CDN: the pages that show them may load https images (only).
CJ_IMAGES_POLICY = {"img-src": [SELF, "https:"]}


def _can_spend_points(request: HttpRequest) -> bool:
    return request.user.has_perm("catalog.start_sync")


def _import(admin_view: admin.ModelAdmin, request: HttpRequest, refs: list[ImportRef]) -> None:
    """One product inline, several queued as one import run; the outcome as a message."""
    if not refs:
        admin_view.message_user(request, "Select at least one product to import.", messages.WARNING)
        return
    try:
        if len(refs) == 1:
            run = products_import(refs=refs, trigger=SyncRun.Trigger.ADMIN)
            if run.failed_count:
                admin_view.message_user(
                    request, f"CJ refused {refs[0].value}: {run.errors[0]['message']}", messages.ERROR
                )
            else:
                state = "published" if refs[0].publish else "a draft"
                admin_view.message_user(request, f"Imported {refs[0].value} as {state}.", messages.SUCCESS)
            return
        job = products_import_enqueue(refs=refs, trigger=SyncRun.Trigger.ADMIN)
    except CJError as error:
        admin_view.message_user(request, f"CJ did not answer: {error}", messages.ERROR)
        return
    except redis.RedisError:
        admin_view.message_user(request, QUEUE_DOWN, messages.ERROR)
        return
    admin_view.message_user(
        request, f"{len(refs)} product(s) queued for import on sync-products (job {job.id}).", messages.SUCCESS
    )


def _decimal(value: str | None) -> Decimal | None:
    try:
        amount = Decimal((value or "").strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and 0 <= amount < 10**9 else None


def _search_filters(query: Any) -> SearchFilters:
    page = query.get("page", "1")
    return SearchFilters(
        keyword=(query.get("keyword") or "").strip()[:200],
        category_id=(query.get("category") or "").strip()[:64],
        country_code=(query.get("country") or "").strip().upper()[:2],
        min_price=_decimal(query.get("min_price")),
        max_price=_decimal(query.get("max_price")),
        page=int(page) if page.isdigit() and 1 <= int(page) <= 1000 else 1,
    )


@admin.register(ImportRule)
class ImportRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "keyword",
        "cj_category_id",
        "ship_from_country",
        "min_cost",
        "max_cost",
        "min_stock",
        "auto_publish",
        "auto_approve",
        "is_active",
        "next_page",
        "last_run_at",
    )
    list_filter = ("is_active", "auto_publish")
    search_fields = ("name", "keyword", "cj_category_id")
    readonly_fields = ("next_page", "last_run_at", "created_at", "updated_at")
    actions = ["run_now"]

    def has_start_sync_permission(self, request: HttpRequest) -> bool:
        return _can_spend_points(request)

    @admin.action(description="Run the selected rules now (spends CJ points)", permissions=["start_sync"])
    def run_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        try:
            job = import_rules_run_enqueue(rule_ids=list(queryset.values_list("pk", flat=True)), trigger="admin")
        except redis.RedisError:
            self.message_user(request, QUEUE_DOWN, messages.ERROR)
            return
        self.message_user(request, f"Rules queued on sync-products (job {job.id}).", messages.SUCCESS)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(csp_update(CJ_IMAGES_POLICY)(self.cj_search_view))
        search = path("cj-search/", view, name="catalog_cj_search")
        return [search, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        context = {**(extra_context or {}), "cj_search_url": reverse("admin:catalog_cj_search")}
        return super().changelist_view(request, context)

    def cj_search_view(self, request: HttpRequest) -> HttpResponse:
        """GET: one page of CJ's catalogue (cached); POST: import the checked pids, the whole page, or a reference."""
        if not _can_spend_points(request):
            raise PermissionDenied
        if request.method == "POST":
            publish = request.POST.get("publish") == "1"
            try:
                if request.POST.get("reference"):
                    refs = [import_ref_parse(request.POST["reference"], publish=publish)]
                else:
                    refs = [ImportRef("pid", pid, publish) for pid in request.POST.getlist("pid") if pid.strip()][:100]
            except DomainError as refused:
                self.message_user(request, refused.message, messages.ERROR)
            else:
                _import(self, request, refs)
            return HttpResponseRedirect(request.get_full_path())
        filters = _search_filters(request.GET)
        page, problem = None, ""
        if filters.keyword or filters.category_id:
            try:
                page = cj_search(filters=filters)
            except CJError as cj_error:
                problem = f"CJ did not answer the search: {cj_error}"
        context = {
            **self.admin_site.each_context(request),
            "title": "Search CJ and import",
            "opts": self.model._meta,
            "filters": filters,
            "query": request.GET,
            "result": page,
            "error": problem,
            "pricing_rule": current_rule().describe(),
        }
        return TemplateResponse(request, "admin/catalog/cj_search.html", context)


@admin.register(ImportCandidate)
class ImportCandidateAdmin(admin.ModelAdmin):
    list_display = ("thumbnail", "name", "cj_pid", "cj_cost", "our_price", "stock", "rule", "status", "created_at")
    list_filter = ("status", "rule")
    search_fields = ("name", "cj_pid", "sku")
    list_select_related = ("rule",)
    show_full_result_count = False
    actions = ["approve", "reject"]
    readonly_fields = [field.name for field in ImportCandidate._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rules and staff searches find candidates

    def has_start_sync_permission(self, request: HttpRequest) -> bool:
        return _can_spend_points(request)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        response = super().changelist_view(request, extra_context)
        # csp_update marks the answer for django-csp's middleware (the thumbnails are CJ's images).
        return csp_update(CJ_IMAGES_POLICY)(lambda _request: response)(request)

    @admin.display(description="image")
    def thumbnail(self, obj: ImportCandidate) -> str:
        return format_html('<img src="{}" alt="" width="48" height="48">', obj.image) if obj.image else ""

    @admin.display(description="CJ cost")
    def cj_cost(self, obj: ImportCandidate) -> str:
        if obj.cj_cost_low == obj.cj_cost_high:
            return f"{obj.cj_cost_low}"
        return f"{obj.cj_cost_low} - {obj.cj_cost_high}"

    @admin.display(description="our price")
    def our_price(self, obj: ImportCandidate) -> str:
        rule = current_rule()
        low, high = rule.price_for(obj.cj_cost_low), rule.price_for(obj.cj_cost_high)
        return f"{low}" if low == high else f"{low} - {high}"

    @admin.action(description="Approve: import the selected candidates (spends CJ points)", permissions=["start_sync"])
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(
            queryset.filter(status__in=[ImportCandidate.Status.NEW, ImportCandidate.Status.FAILED]).values_list(
                "pk", flat=True
            )
        )
        if not ids:
            self.message_user(request, "None of the selected candidates waits for a decision.", messages.WARNING)
            return
        try:
            if len(ids) == 1:
                run = candidates_approve(candidate_ids=ids)
                failed = run.failed_count if run else 0
                level = messages.ERROR if failed else messages.SUCCESS
                self.message_user(request, f"Imported {1 - failed} of 1 candidate.", level)
                return
            job = candidates_approve_enqueue(candidate_ids=ids)
        except CJError as error:
            self.message_user(request, f"CJ did not answer: {error}", messages.ERROR)
            return
        except redis.RedisError:
            self.message_user(request, QUEUE_DOWN, messages.ERROR)
            return
        self.message_user(request, f"{len(ids)} candidate(s) queued for import (job {job.id}).", messages.SUCCESS)

    @admin.action(description="Reject the selected candidates", permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet) -> None:
        rejected = candidates_reject(candidate_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{rejected} candidate(s) rejected.", messages.SUCCESS)
