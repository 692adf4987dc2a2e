"""Finding products to sell: the admin's CJ search (cached pages), import rules that turn their
matches into candidates, and the staff decision on candidates (approve imports, reject drops).

Nothing here pages through CJ's whole catalogue: a search is one `listV2` page staff asked for;
a rule run reads at most `pages_per_run` pages per rule, continuing where it stopped, and only
while the discovery allowance of the day lasts (`discovery_points_allowance`).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone

from catalog.curation import ImportRef, products_import
from catalog.models import ImportCandidate, ImportRule, Product, SyncRun
from catalog.pricing import current_rule
from catalog.sync.runs import cj_client, run_close_failed
from integrations.cj import types as cj
from integrations.cj.points import CJPurpose, cj_purpose, point_cost
from integrations.cj.points_plan import points_allowance

logger = logging.getLogger(__name__)

SEARCH_PAGE_SIZE = 20
RULE_PAGE_SIZE = 50
_LIST_ENDPOINT = "product/listV2"
_DETAIL_ENDPOINT = "product/query"


# --- the discovery allowance ------------------------------------------------------------------
def discovery_points_allowance() -> int:
    """Points the import rules and CJ searches may still spend today: the points plan's share for
    discovery (`CJ_POINTS_DISCOVERY_DAILY` at most, given up first when points run low)."""
    return points_allowance(CJPurpose.DISCOVERY)


# --- admin search --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchFilters:
    keyword: str = ""
    category_id: str = ""
    country_code: str = ""
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    page: int = 1

    def cache_key(self) -> str:
        parts = [self.keyword.strip().lower(), self.category_id, self.country_code.upper()]
        parts += [str(self.min_price or ""), str(self.max_price or ""), str(self.page)]
        return "cj-search:" + "|".join(parts)


@dataclass(frozen=True)
class SearchItem:
    pid: str
    name: str
    sku: str
    image: str
    cost_low: Decimal
    cost_high: Decimal
    price_low: Decimal
    price_high: Decimal
    stock: int | None
    product_id: int | None  # ours when the shop already carries it
    is_published: bool


@dataclass(frozen=True)
class SearchPage:
    items: tuple[SearchItem, ...]
    page: int
    total_pages: int
    total_records: int
    from_cache: bool


def _listing(client: Any, filters: SearchFilters, *, page: int, size: int) -> cj.ProductPage:
    return client.list_products(
        page=page,
        size=size,
        keyword=filters.keyword.strip() or None,
        category_id=filters.category_id or None,
        country_code=filters.country_code or None,
        min_price=filters.min_price,
        max_price=filters.max_price,
    )


def cj_search(*, filters: SearchFilters, client: Any = None) -> SearchPage:
    """One page of CJ's catalogue for staff, with our computed price and whether the shop has it.

    The CJ page is cached (`default` cache, `CATALOG_SEARCH_CACHE_SECONDS`): browsing back and forth
    costs no call. "Already in the shop" is read from our database on every view.
    """
    cache = caches["default"]
    key = filters.cache_key()
    listing = cache.get(key)
    from_cache = listing is not None
    if listing is None:
        with cj_purpose(CJPurpose.DISCOVERY):
            listing = _listing(client or cj_client(), filters, page=filters.page, size=SEARCH_PAGE_SIZE)
        cache.set(key, listing, settings.CATALOG_SEARCH_CACHE_SECONDS)
    rule = current_rule()
    carried = {
        pid: (pk, published)
        for pid, pk, published in Product.objects.filter(cj_pid__in=[s.pid for s in listing.products]).values_list(
            "cj_pid", "pk", "is_published"
        )
    }
    items = tuple(
        SearchItem(
            pid=summary.pid,
            name=summary.name,
            sku=summary.sku,
            image=summary.image,
            cost_low=summary.sell_price.low,
            cost_high=summary.sell_price.high,
            price_low=rule.price_for(summary.sell_price.low),
            price_high=rule.price_for(summary.sell_price.high),
            stock=summary.warehouse_inventory,
            product_id=carried.get(summary.pid, (None, False))[0],
            is_published=carried.get(summary.pid, (None, False))[1],
        )
        for summary in listing.products
    )
    return SearchPage(
        items=items,
        page=listing.page,
        total_pages=listing.total_pages,
        total_records=listing.total_records,
        from_cache=from_cache,
    )


# --- rules and candidates ---------------------------------------------------------------------
def _matches(rule: ImportRule, summary: cj.ProductSummary) -> bool:
    cost = summary.sell_price.low
    if cost <= 0:
        return False
    if rule.min_cost is not None and cost < rule.min_cost:
        return False
    if rule.max_cost is not None and cost > rule.max_cost:
        return False
    return not (rule.min_stock and (summary.warehouse_inventory or 0) < rule.min_stock)


def _rule_filters(rule: ImportRule) -> SearchFilters:
    return SearchFilters(
        keyword=rule.keyword,
        category_id=rule.cj_category_id,
        country_code=rule.ship_from_country,
        min_price=rule.min_cost,
        max_price=rule.max_cost,
    )


def import_rules_run(
    *,
    rule_ids: Sequence[int] | None = None,
    trigger: str = SyncRun.Trigger.SCHEDULER,
    job_id: str = "",
    client: Any = None,
    allowance: int | None = None,
) -> SyncRun:
    """Run these import rules (None: every active rule) within the points allowance; returns the run.

    New matches become candidates (`created_count`); a product the shop carries, or already a
    candidate, is skipped (`unchanged_count`). A rule with auto-approve imports its candidates at
    once (10 points each, from the same allowance). A run that has no allowance left stops
    before its next call and says so in its errors.
    """
    client = client or cj_client()
    points_left = discovery_points_allowance() if allowance is None else allowance
    rules = ImportRule.objects.filter(is_active=True)
    if rule_ids is not None:
        rules = ImportRule.objects.filter(pk__in=rule_ids)
    run = SyncRun.objects.create(kind=SyncRun.Kind.DISCOVERY, trigger=trigger, job_id=job_id, started_at=timezone.now())
    spent = 0
    try:
        with cj_purpose(CJPurpose.DISCOVERY):  # the points plan counts and caps what the rules spend
            for rule in rules.order_by("pk"):
                spent += _rule_run(run, rule, client=client, points_left=points_left - spent)
    except (Exception, KeyboardInterrupt, SystemExit) as error:
        run_close_failed(run, error=error)
        raise
    run.checkpoint = {"points_spent": spent, "points_allowance": points_left}
    run.status, run.finished_at = SyncRun.Status.SUCCEEDED, timezone.now()
    run.save()
    logger.info("catalog.discovery.finished", extra={"run": run.pk, "candidates": run.created_count, "points": spent})
    return run


def _rule_run(run: SyncRun, rule: ImportRule, *, client: Any, points_left: int) -> int:
    """One rule's pages; returns the points spent."""
    spent, page, new_pids = 0, rule.next_page, []
    for _ in range(max(1, rule.pages_per_run)):
        if spent + point_cost(_LIST_ENDPOINT) > points_left:
            message = f"rule {rule.pk}: the discovery allowance is spent"
            run.errors.append({"pid": None, "error": "AllowanceExhausted", "message": message})
            break
        listing = _listing(client, _rule_filters(rule), page=page, size=RULE_PAGE_SIZE)
        spent += point_cost(_LIST_ENDPOINT)
        run.cj_calls += 1
        run.pages_done += 1
        added = _candidates_add(run, rule, [s for s in listing.products if _matches(rule, s)])
        new_pids += added
        run.unchanged_count += len(listing.products) - len(added)
        page = page + 1 if page < min(listing.total_pages, 1000) else 1
        if page == 1:
            break
    rule.next_page, rule.last_run_at = page, timezone.now()
    rule.save(update_fields=["next_page", "last_run_at", "updated_at"])
    run.save()
    if rule.auto_approve and new_pids:
        affordable = max(0, (points_left - spent) // max(1, point_cost(_DETAIL_ENDPOINT)))
        ids = list(ImportCandidate.objects.filter(cj_pid__in=new_pids[:affordable]).values_list("pk", flat=True))
        if ids:
            candidates_approve(candidate_ids=ids, trigger=run.trigger, client=client)
            spent += len(ids) * point_cost(_DETAIL_ENDPOINT)
    return spent


def _candidates_add(run: SyncRun, rule: ImportRule, summaries: list[cj.ProductSummary]) -> list[str]:
    pids = [summary.pid for summary in summaries]
    known = set(Product.objects.filter(cj_pid__in=pids).values_list("cj_pid", flat=True))
    known |= set(ImportCandidate.objects.filter(cj_pid__in=pids).values_list("cj_pid", flat=True))
    fresh = [summary for summary in summaries if summary.pid not in known]
    ImportCandidate.objects.bulk_create(
        [
            ImportCandidate(
                cj_pid=summary.pid,
                rule=rule,
                name=summary.name[:500],
                sku=summary.sku[:100],
                image=summary.image if summary.image.startswith(("http://", "https://")) else "",
                cj_cost_low=summary.sell_price.low,
                cj_cost_high=summary.sell_price.high,
                stock=summary.warehouse_inventory or 0,
                cj_category_id=summary.category_id or "",
            )
            for summary in fresh
        ],
        ignore_conflicts=True,
    )
    run.created_count += len(fresh)
    return [summary.pid for summary in fresh]


def candidates_approve(
    *, candidate_ids: Sequence[int], trigger: str = SyncRun.Trigger.ADMIN, job_id: str = "", client: Any = None
) -> SyncRun | None:
    """Import these waiting (or failed) candidates; published at once when their rule auto-publishes."""
    candidates = ImportCandidate.objects.filter(
        pk__in=list(candidate_ids), status__in=[ImportCandidate.Status.NEW, ImportCandidate.Status.FAILED]
    ).select_related("rule")
    refs = [ImportRef("pid", c.cj_pid, bool(c.rule and c.rule.auto_publish)) for c in candidates.order_by("pk")]
    if not refs:
        return None
    return products_import(refs=refs, trigger=trigger, job_id=job_id, client=client)


def candidates_reject(*, candidate_ids: Sequence[int]) -> int:
    """Reject waiting candidates (a rule never proposes them again); returns how many."""
    return ImportCandidate.objects.filter(
        pk__in=list(candidate_ids), status__in=[ImportCandidate.Status.NEW, ImportCandidate.Status.FAILED]
    ).update(status=ImportCandidate.Status.REJECTED, decided_at=timezone.now())


def starter_rule() -> ImportRule:
    """The starter selection's keyword rule (`CATALOG_STARTER_KEYWORD`), created once: auto-approve, auto-publish."""
    keyword = settings.CATALOG_STARTER_KEYWORD
    rule, _created = ImportRule.objects.get_or_create(
        name=f"Starter: {keyword}",
        defaults={"keyword": keyword, "auto_publish": True, "auto_approve": True, "pages_per_run": 1},
    )
    return rule


def starter_selection_import(
    *, trigger: str = SyncRun.Trigger.BOOTSTRAP, job_id: str = "", client: Any = None
) -> SyncRun:
    """What `make run` puts in an empty shop: the starter pids, published, then one run of the starter
    keyword rule (its matches imported and published). Returns the rule run."""
    client = client or cj_client()
    refs = [ImportRef("pid", pid, True) for pid in settings.CATALOG_STARTER_PIDS]
    if refs:
        products_import(refs=refs, trigger=trigger, job_id=job_id, client=client)
    return import_rules_run(rule_ids=[starter_rule().pk], trigger=trigger, job_id=job_id, client=client)
