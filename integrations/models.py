"""What the integrations keep in PostgreSQL: CJ's token pair, encrypted (integrations/cj/tokens.py)."""

from django.db import models


class CJTokenRecord(models.Model):
    """The durable copy of one CJ account's token pair (Redis holds the cache), so a Redis that
    lost its data never forces a CJ login (CJ allows one per 5 minutes). `ciphertext` is the pair
    as Fernet-encrypted JSON; `login_at` dates the last getAccessToken, CJ's 5-minute guard."""

    account = models.CharField(max_length=64, unique=True)
    ciphertext = models.TextField(blank=True)
    login_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "CJ token record"

    def __str__(self) -> str:
        return f"CJ tokens of {self.account}"
