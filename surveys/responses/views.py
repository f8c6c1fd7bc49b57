"""The residents' pages. Thin: validation in forms, writes in services.

The forms need no CSRF token, so residents who block cookies can answer too: CSRF protects
actions of a logged-in session, and these pages have none. An invitation form is authorised by
its secret single-use token, which a forging site cannot know; an open form accepts anyone's
answer anyway (a forged one is no different from one posted directly). Without cookies the chosen
language travels in the links (``?lang=en``)."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from surveys.common.errors import answers_head
from surveys.common.ratelimits import limited
from surveys.invitations.services import InvitationUnavailable, invitation_for_token, mark_opened
from surveys.organisations.models import Organisation
from surveys.organisations.selectors import organisation_measuring
from surveys.questionnaires.open_links import kept
from surveys.questionnaires.selectors import open_link_version
from surveys.questionnaires.services import current_version

from . import services
from .forms import ResponseForm, valid_score
from .models import Source
from .selectors import response_to

# A counter tablet's thank-you page starts a fresh form after this many seconds.
KIOSK_SECONDS = 10


def _in_language(url: str, **params: str) -> str:
    """The URL, with the resident's language when it is not the default (kept without cookies)
    and ``params`` (the kiosk mode of a counter tablet)."""
    language = get_language()
    if language != settings.LANGUAGE_CODE:
        params = {"lang": language, **params}
    return f"{url}?{urlencode(params)}" if params else url


def _form_page(
    request, *, form, organisation, action, one_click_score=None, confirm_score=None, status=200, kiosk=False
):
    return render(
        request,
        "surveys/form.html",
        {
            "form": form,
            "organisation": organisation,
            "version": form.version,
            "action": _in_language(action, **({"kiosk": "1"} if kiosk else {})),
            "one_click_score": one_click_score,
            "confirm_score": confirm_score,
        },
        status=status,
    )


def _unavailable(request, organisation=None):
    """One page for unknown, expired and used tokens, so that tokens cannot be probed."""
    return render(request, "surveys/unavailable.html", {"organisation": organisation}, status=404)


def _already_answered(request, organisation):
    return render(request, "surveys/already_answered.html", {"organisation": organisation}, status=409)


def _thanks(organisation: Organisation, kiosk_channel: str | None = None):
    url = reverse("surveys:thanks", kwargs={"slug": organisation.slug})
    return redirect(_in_language(url, **({"kiosk": kiosk_channel} if kiosk_channel else {})))


@csrf_exempt  # the secret token is the authorisation (see the module docstring)
@never_cache
@answers_head
@limited("token-pages", "KTO_RATE_TOKEN_PAGES")
@require_http_methods(["GET", "POST"])
def invitation_form(request, token: str):
    try:
        invitation = invitation_for_token(token)
    except InvitationUnavailable:
        return _unavailable(request)
    organisation = invitation.organisation
    version = current_version(organisation=organisation, channel=invitation.channel)
    existing = response_to(invitation)
    language = get_language()
    if request.method == "POST":
        if existing is not None and existing.is_complete:
            return _already_answered(request, organisation)
        form = ResponseForm(request.POST, version=existing.survey_version if existing else version, language=language)
        if not form.is_valid():
            return _form_page(request, form=form, organisation=organisation, action=request.path, status=400)
        try:
            services.submit_response(
                organisation=organisation,
                channel=invitation.channel,
                score=form.cleaned_data["score"],
                answers=form.answers(),
                comment=form.comment(),
                contact=form.contact(),
                language=language,
                source=Source.INVITATION,
                invitation=invitation,
            )
        except services.AlreadyAnswered:
            return _already_answered(request, organisation)
        except InvitationUnavailable:
            return _unavailable(request)
        return _thanks(organisation)
    if existing is not None and existing.is_complete:
        return _unavailable(request)
    mark_opened(invitation=invitation)
    initial = {"score": existing.score} if existing else None
    form = ResponseForm(initial=initial, version=existing.survey_version if existing else version, language=language)
    return _form_page(request, form=form, organisation=organisation, action=request.path)


@never_cache
@answers_head
@limited("token-pages", "KTO_RATE_TOKEN_PAGES")
@require_http_methods(["GET"])
def one_click(request, token: str, score: int):
    """Stores the score at once (the resident may close the page right away), then offers the
    remaining questions; submitting them completes the same response."""
    try:
        invitation = invitation_for_token(token)
    except InvitationUnavailable:
        return _unavailable(request)
    organisation = invitation.organisation
    existing = response_to(invitation)
    if existing is not None and existing.is_complete:
        return _unavailable(request)
    action = invitation_action(token)
    version = (
        existing.survey_version if existing else current_version(organisation=organisation, channel=invitation.channel)
    )
    language = get_language()
    if not valid_score(score):
        form = ResponseForm({"score": str(score)}, version=version, language=language)
        form.is_valid()
        return _form_page(request, form=form, organisation=organisation, action=action, status=400)
    mark_opened(invitation=invitation)
    try:
        stored = services.record_one_click(invitation=invitation, score=score, language=language)
    except services.AlreadyAnswered:
        return _unavailable(request)
    # (Nothing stored when a link scanner is at work: the form with the score chosen, to send.)
    form = ResponseForm(initial={"score": score}, version=version, language=language)
    return _form_page(
        request,
        form=form,
        organisation=organisation,
        action=action,
        one_click_score=score if stored else None,
        confirm_score=None if stored else score,
    )


def invitation_action(token: str) -> str:
    return reverse("surveys:invitation", kwargs={"token": token})


@csrf_exempt  # an open form has nothing to protect (see the module docstring)
@never_cache
@limited("open-form", "KTO_RATE_OPEN_FORM", method="POST")
@require_http_methods(["GET", "HEAD", "POST"])
def open_form(request, slug: str, channel: str):
    """An open link without a token, for a QR code or a tablet at the counter. Its page is the
    same for everyone: each worker keeps it until staff change what it shows (open_links)."""
    language = get_language()
    kiosk = request.GET.get("kiosk") == "1"  # a counter tablet: the thank-you page returns here
    if request.method != "POST":
        page = kept(
            f"page:{slug}:{channel}:{language}:{kiosk}",
            lambda: _open_form_page(request, _open_link(slug, channel), language, kiosk).content,
        )
        return HttpResponse(page)
    version = _open_link(slug, channel)
    organisation = version.survey.organisation
    form = ResponseForm(request.POST, version=version, language=language)
    if not form.is_valid():
        return _form_page(request, form=form, organisation=organisation, action=request.path, status=400, kiosk=kiosk)
    services.submit_response(
        organisation=organisation,
        channel=channel,
        score=form.cleaned_data["score"],
        answers=form.answers(),
        comment=form.comment(),
        contact=form.contact(),
        language=language,
        source=Source.OPEN,
        survey_version=version,
    )
    return _thanks(organisation, kiosk_channel=channel if kiosk else None)


def _open_link(slug: str, channel: str):
    """The version an open link's residents answer; 404 without one."""
    version = open_link_version(slug, channel)
    if version is None:  # no link, or a measured channel without its survey yet
        organisation = organisation_measuring(slug, channel)
        if organisation is None:
            raise Http404
        version = current_version(organisation=organisation, channel=channel)
    return version


def _open_form_page(request, version, language: str, kiosk: bool):
    form = ResponseForm(version=version, language=language)
    return _form_page(request, form=form, organisation=version.survey.organisation, action=request.path, kiosk=kiosk)


@require_http_methods(["GET", "HEAD"])
def thanks(request, slug: str):
    organisation = get_object_or_404(Organisation, slug=slug)
    channel = request.GET.get("kiosk", "")
    next_form = None
    if channel and organisation.channels.filter(channel=channel, enabled=True).exists():
        next_form = _in_language(reverse("surveys:open", kwargs={"slug": slug, "channel": channel}), kiosk="1")
    return render(
        request,
        "surveys/thanks.html",
        {"organisation": organisation, "next_form": next_form, "kiosk_seconds": KIOSK_SECONDS},
    )


def home(request):
    return render(request, "surveys/home.html", {"organisations": Organisation.objects.prefetch_related("channels")})
