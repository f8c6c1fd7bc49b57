"""The unsubscribe page behind the link in every invitation. GET only asks for confirmation (mail
scanners follow links); POST, from the page's button or from a mail client's one-click
unsubscribe (RFC 8058), records the opt-out. Works without JavaScript."""

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from surveys.organisations.models import Organisation

from .selectors import is_opted_out
from .services import opt_out
from .unsubscribe import InvalidUnsubscribeToken, read_unsubscribe_token


# CSRF protection is not needed: the signed token in the URL is the authorisation, and mail
# clients' one-click unsubscribe POSTs cannot carry a CSRF token.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    try:
        organisation_id, hashed = read_unsubscribe_token(token)
    except InvalidUnsubscribeToken:
        return render(request, "surveys/unsubscribe_invalid.html", status=404)
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        return render(request, "surveys/unsubscribe_invalid.html", status=404)
    if request.method == "POST":
        opt_out(organisation_id=organisation.pk, address_hash=hashed)
        return render(request, "surveys/unsubscribed.html", {"organisation": organisation})
    already = is_opted_out(organisation_id=organisation.pk, address_hash=hashed)
    template = "surveys/unsubscribed.html" if already else "surveys/unsubscribe.html"
    return render(request, template, {"organisation": organisation, "action": request.get_full_path()})
