"""Content-Security-Policy: 'self' only everywhere, and the API docs pages' own exceptions.

The admin (and every JSON answer) gets the strict policy of `CONTENT_SECURITY_POLICY`. Swagger UI
(`/api/docs/`) and ReDoc (`/api/redoc/`) load their scripts, styles and images from our own static
files (drf-spectacular-sidecar), so nothing leaves 'self' there either. Swagger UI's inline script
and style run by a per-request nonce (templates/drf_spectacular/swagger_ui.html), never by
'unsafe-inline'; ReDoc has no inline script (django-csp issues a nonce only to a page that uses
one) but writes its styles from its script, which no nonce can cover.
"""

from csp.constants import NONCE, SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

SWAGGER_UI_PATH = "/api/docs/"
REDOC_PATH = "/api/redoc/"


def api_docs_directives(*, path: str) -> dict[str, object] | None:
    """The policy of the docs page at `path` (the project's, plus what that page needs of
    'self'), or None for any other path."""
    if path not in (SWAGGER_UI_PATH, REDOC_PATH):
        return None
    # A nonce in the list would make browsers ignore 'unsafe-inline'; what a style could load is
    # still held to 'self' by the other directives.
    style_src: list[object] = [SELF, UNSAFE_INLINE] if path == REDOC_PATH else [SELF, NONCE]
    directives: dict[str, object] = {
        **settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
        "script-src": [SELF, NONCE],
        "style-src": style_src,
        # Their icons are inline SVG images.
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
    }
    if path == REDOC_PATH:
        # ReDoc builds its search worker from a blob of its own script.
        directives["worker-src"] = [SELF, "blob:"]
    return directives


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the API docs pages' policy on their paths."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only and parts.config is None:
            parts.config = api_docs_directives(path=request.path)
        return parts
