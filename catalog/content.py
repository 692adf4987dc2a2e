"""What CJ's product content may carry into our storefront: descriptions reduced to a small
allow-list of HTML, with a well-kept sanitiser (nh3, the Rust `ammonia` library), and image URLs
kept only when they are http(s).

CJ's descriptions are supplier HTML that the public API serves as it is stored, so they are cleaned
once, when written (sync upsert, single-product refresh, PRODUCT webhooks, staff edits, and the
migration that cleaned what was stored before): a script, an event handler or a `javascript:` link
never reaches the database, and every reader can trust the column.
"""

from collections.abc import Iterable
from urllib.parse import urlsplit

import nh3

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "ul",
        "ol",
        "li",
        "strong",
        "em",
        "b",
        "i",
        "h2",
        "h3",
        "h4",
        "table",
        "caption",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "img",
        "a",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt"}}
URL_SCHEMES = frozenset({"http", "https"})
LINK_REL = "noopener nofollow"

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    # The text of these is code or styling, not words: dropped with the tag.
    clean_content_tags={"script", "style"},
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    # A relative URL would resolve against our storefront; CJ's content has no business there.
    url_relative="deny",
    link_rel=LINK_REL,
    strip_comments=True,
)


def image_url_clean(url: str) -> str:
    """The URL when it is an absolute http(s) URL with a host, else "" (the storefront renders it)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return ""
    return text if parts.scheme.lower() in URL_SCHEMES and parts.netloc else ""


def image_urls_clean(urls: Iterable[object]) -> list[str]:
    """The http(s) image URLs among these (anything not a string is dropped), in order."""
    return [cleaned for cleaned in (image_url_clean(url) for url in urls if isinstance(url, str)) if cleaned]


def description_clean(html: str) -> str:
    """The description with only the allowed tags and attributes, links and images http(s) only.

    Pure; idempotent (cleaning a cleaned description returns it unchanged).
    """
    if not html:
        return ""
    return _CLEANER.clean(html)
