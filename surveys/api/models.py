import hashlib
import secrets
from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.organisations.models import Organisation

# last_used_at is a hint for administrators, not an audit log: writing it at most once a
# minute keeps a busy integration from turning every request into an UPDATE.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_api_key() -> tuple[str, str]:
    """``(prefix, key)``. The key is ``<prefix>.<secret>``: the prefix identifies it in the admin,
    the secret carries 256 random bits."""
    prefix = secrets.token_hex(4)
    return prefix, f"{prefix}.{secrets.token_urlsafe(32)}"


class ApiKeyQuerySet(models.QuerySet):
    def active(self) -> "ApiKeyQuerySet":
        return self.filter(revoked_at__isnull=True)

    def create_key(self, *, organisation: Organisation, name: str = "") -> tuple["ApiKey", str]:
        """A new key and its plain text, which is shown once and never stored."""
        prefix, key = generate_api_key()
        api_key = self.create(organisation=organisation, name=name, prefix=prefix, key_hash=hash_api_key(key))
        return api_key, key

    def for_key(self, key: str) -> "ApiKey | None":
        """The active key matching ``key``; None for unknown and revoked keys alike."""
        if not key or len(key) > 100:
            return None
        return self.active().select_related("organisation").filter(key_hash=hash_api_key(key)).first()


class ApiKey(models.Model):
    """Lets one of an organisation's systems use the API. Only a hash of the key is stored;
    every request made with it sees only that organisation's data."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(
        _("naam"), max_length=100, blank=True, help_text=_("Bijvoorbeeld: telefonie, afsprakensysteem.")
    )
    prefix = models.CharField(_("begin van de sleutel"), max_length=8, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("aangemaakt"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("laatst gebruikt"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("ingetrokken"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API-sleutel")
        verbose_name_plural = _("API-sleutels")
        ordering = ["organisation", "-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(key_hash=""), name="api_key_hash_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.name or self.prefix}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            ApiKey.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=self.revoked_at)

    def touch(self, now=None) -> None:
        now = now or timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION:
            self.last_used_at = now
            ApiKey.objects.filter(pk=self.pk).update(last_used_at=now)
