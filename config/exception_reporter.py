"""Django's debug error pages, shown to loopback clients only and without secret settings.

With `DEBUG` on, Django answers an unhandled error or a refused request (an unknown `Host`
header, for instance) with its technical page, which lists the settings. That page is for the
developer at the machine: any other caller gets a plain answer, decided by the socket's address,
never by a header the caller writes.
"""

import re

from django.utils.safestring import SafeString
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from config.client_address import is_loopback

# Plain words, no markup: the same text serves as the HTML and the text answer.
PLAIN_ANSWER = SafeString("The server could not answer this request. Details are shown to local clients only.\n")


class SecretSettingsFilter(SafeExceptionReporterFilter):
    """Django's filter, also masking the CJ openId (the webhook signing key), anything about
    signing, Sentry's DSN and connection URLs (they can carry passwords)."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGN|HTTP_COOKIE|OPEN_?ID|DSN|URL|LOCATION",
        flags=re.IGNORECASE,
    )


class LoopbackExceptionReporter(ExceptionReporter):
    """The technical page for loopback clients (and e-mailed reports); a plain answer otherwise."""

    def _is_for_local_reader(self) -> bool:
        if self.is_email or self.request is None:
            return True
        return is_loopback(self.request.META.get("REMOTE_ADDR"))

    def get_traceback_html(self) -> SafeString:
        if not self._is_for_local_reader():
            return PLAIN_ANSWER
        return super().get_traceback_html()

    def get_traceback_text(self) -> SafeString:
        if not self._is_for_local_reader():
            return PLAIN_ANSWER
        return super().get_traceback_text()
