"""The products of a sync page written in one statement (part of `catalog.sync.upsert`'s write path).

The rows arrive as one JSON document: Django's bulk_create binds one parameter per value, which
costs more than the database work (bench/sync.py). Table names come from the model.
"""

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from catalog.models import Product

_PRODUCT = Product._meta.db_table

# json.dumps is C; jsonb_to_recordset types the columns.
_PRODUCTS_UPSERT_SQL = f"""
INSERT INTO {_PRODUCT} (cj_pid, sku, name, description, images, category_id, status, cj_price_low, cj_price_high,
                        currency, consecutive_misses, has_staff_name, has_staff_description, min_price,
                        max_price, is_in_stock, last_seen_at, last_synced_at, created_at, updated_at)
SELECT cj_pid, sku, name, description, images, category_id, status, cj_price_low, cj_price_high,
       currency, consecutive_misses, FALSE, FALSE, min_price, max_price, is_in_stock, %(now)s, %(now)s, NOW(), NOW()
  FROM jsonb_to_recordset(%(rows)s::jsonb)
    AS t(cj_pid text, sku text, name text, description text, images jsonb, category_id bigint, status text,
         cj_price_low numeric, cj_price_high numeric, currency text, consecutive_misses integer,
         min_price numeric, max_price numeric, is_in_stock boolean)
ON CONFLICT (cj_pid) DO UPDATE SET
    sku = EXCLUDED.sku, name = EXCLUDED.name, description = EXCLUDED.description, images = EXCLUDED.images,
    category_id = EXCLUDED.category_id, status = EXCLUDED.status, cj_price_low = EXCLUDED.cj_price_low,
    cj_price_high = EXCLUDED.cj_price_high, currency = EXCLUDED.currency,
    consecutive_misses = EXCLUDED.consecutive_misses, min_price = EXCLUDED.min_price,
    max_price = EXCLUDED.max_price, is_in_stock = EXCLUDED.is_in_stock, last_seen_at = EXCLUDED.last_seen_at,
    last_synced_at = EXCLUDED.last_synced_at, updated_at = NOW()
RETURNING cj_pid, id
"""  # noqa: S608


def _json_default(value: Any) -> str:
    # Decimals travel as strings (exact, cast to numeric by PostgreSQL), datetimes as ISO 8601.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def products_write(rows: list[dict[str, Any]], *, now: datetime) -> dict[str, int]:
    """Insert or update these product rows in one statement; returns cj_pid -> id."""
    with connection.cursor() as cursor:
        cursor.execute(_PRODUCTS_UPSERT_SQL, {"rows": json.dumps(rows, default=_json_default), "now": now})
        return dict(cursor.fetchall())
