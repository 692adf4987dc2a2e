"""Content-Security-Policy: 'self' only everywhere, and the API docs page's own exception.

The admin (and every JSON answer) gets the strict policy of `CONTENT_SECURITY_POLICY`. The
Swagger UI page loads its script and styles from a CDN until it is served from our static files;
it gets `API_DOCS_CONTENT_SECURITY_POLICY`, whose inline script is allowed by a per-request nonce
(templates/drf_spectacular/swagger_ui.html), never by 'unsafe-inline'.
"""

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the API docs policy on `API_DOCS_PATH`."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only and parts.config is None and request.path == settings.API_DOCS_PATH:
            parts.config = settings.API_DOCS_CONTENT_SECURITY_POLICY["DIRECTIVES"]
        return parts
