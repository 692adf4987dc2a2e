"""Content-Security-Policy: 'self' only everywhere, and the API docs page's own exception.

The admin (and every JSON answer) gets the strict policy of `CONTENT_SECURITY_POLICY`. The
Swagger UI page loads its script, styles and images from drf-spectacular's default CDN until they
are served from our static files; its one inline script runs by a per-request nonce
(templates/drf_spectacular/swagger_ui.html), never by 'unsafe-inline'.
"""

from csp.constants import NONCE, SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

API_DOCS_PATH = "/api/docs/"
SWAGGER_UI_CDN = "https://cdn.jsdelivr.net"


def api_docs_directives() -> dict[str, object]:
    """The docs page's policy: the project's, plus what Swagger UI needs."""
    return {
        **settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
        "script-src": [SELF, SWAGGER_UI_CDN, NONCE],
        # Swagger UI sets style attributes from its script: a nonce cannot cover those.
        "style-src": [SELF, SWAGGER_UI_CDN, UNSAFE_INLINE],
        "img-src": [SELF, SWAGGER_UI_CDN, "data:"],
        "connect-src": [SELF],
    }


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the API docs policy on `API_DOCS_PATH`."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only and parts.config is None and request.path == API_DOCS_PATH:
            parts.config = api_docs_directives()
        return parts
