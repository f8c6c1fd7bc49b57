"""Demo data: the two municipalities of the 2018 seed reports (Stichtse Vecht and Utrecht) with
logins, invitations in every state, the published contact volumes and synthetic responses for
2017 and 2018 (generate.py) whose yearly mean per channel reproduces the published rapportcijfers
(figures.py). ``manage.py seed_demo`` is a thin wrapper around :func:`seed_demo`.

Running it again adds no responses, users or volumes (existing blocks are skipped, existing users
keep their password); only the two example invitations whose links are printed are new each run,
because a token is stored as a hash and an old link cannot be shown again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from surveys.invitations.links import invitation_url, one_click_urls
from surveys.invitations.models import Invitation, InvitationStatus
from surveys.invitations.services import create_invitation
from surveys.organisations.models import Channel, Organisation, OrganisationChannel, Role, StaffMembership
from surveys.organisations.services import create_organisation
from surveys.questionnaires.services import current_version
from surveys.reports.models import ReportRecipient, ReportSubscription
from surveys.responses.masking import mask_personal_data
from surveys.responses.models import Response, Source
from surveys.responses.services import submit_response
from surveys.rollups.models import ContactVolume, KeyFigure, KeyFigureValue
from surveys.rollups.volumes import VolumeRow, save_volumes

from .figures import KEY_FIGURES, ORGANISATIONS, TARGET_SCORES, VOLUMES, YEARS, DemoOrganisation
from .generate import Block, insert_blocks, monthly_split, response_count

# Shown on the console next to the logins. Demo only: anyone who reads the README knows it.
DEMO_PASSWORD = "kto-demo-2018"  # noqa: S105
ADMIN_USERNAME = "admin"
KCC_GROUP = "KCC-medewerker"
# What a KCC employee may look at in the admin (read-only). Delivery is left out on purpose: until
# a message is sent it holds the resident's address.
KCC_VIEW_MODELS = (
    "organisation",
    "organisationchannel",
    "survey",
    "surveyversion",
    "question",
    "response",
    "answer",
    "invitation",
    "contact",
)


# --- organisations, logins, invitations ---------------------------------------------------------


# The demo's responses are of 2015-2018 (the seeds' years): the demo organisations keep them, and
# their comments, for 20 years, so that retention leaves a newcomer something to look at.
DEMO_RETENTION_MONTHS = 240


def ensure_organisation(demo: DemoOrganisation) -> tuple[Organisation, bool]:
    organisation = Organisation.objects.filter(slug=demo.slug).first()
    if organisation is None:
        organisation = create_organisation(
            name=demo.name,
            slug=demo.slug,
            channels=list(demo.channels),
            comment_retention_months=DEMO_RETENTION_MONTHS,
            response_retention_months=DEMO_RETENTION_MONTHS,
        )
        return organisation, True
    # An organisation from an older seed may lack a channel: add it (with its default survey).
    for channel in demo.channels:
        if not OrganisationChannel.objects.filter(organisation=organisation, channel=channel).exists():
            OrganisationChannel.objects.create(organisation=organisation, channel=channel)
        current_version(organisation=organisation, channel=channel)
    return organisation, False


def ensure_kcc_group() -> Group:
    group, _ = Group.objects.get_or_create(name=KCC_GROUP)
    codenames = [f"view_{model}" for model in KCC_VIEW_MODELS]
    group.permissions.add(*Permission.objects.filter(content_type__app_label="surveys", codename__in=codenames))
    return group


@dataclass(frozen=True)
class Login:
    username: str
    description: str
    created: bool


def ensure_user(username: str, *, superuser: bool = False) -> tuple[object, bool]:
    """The demo user; an existing one keeps its password (resetting it would log out its sessions)."""
    User = get_user_model()  # noqa: N806
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, False
    if superuser:
        user = User.objects.create_superuser(username=username, email="", password=DEMO_PASSWORD)
    else:
        user = User.objects.create_user(username=username, password=DEMO_PASSWORD, is_staff=True)
    return user, True


def ensure_kcc_login(organisation: Organisation, group: Group) -> Login:
    user, created = ensure_user(f"kcc-{organisation.slug}")
    user.groups.add(group)
    StaffMembership.objects.get_or_create(user=user, defaults={"organisation": organisation, "role": Role.KCC})
    return Login(user.username, f"KCC-medewerker {organisation.name}", created)


def ensure_beheerder_login(organisation: Organisation) -> Login:
    """A KTO-beheerder of the organisation: edits its surveys, channels, API keys and kerncijfers."""
    user, created = ensure_user(f"beheerder-{organisation.slug}")
    StaffMembership.objects.get_or_create(user=user, defaults={"organisation": organisation, "role": Role.BEHEERDER})
    return Login(user.username, f"KTO-beheerder {organisation.name}", created)


def create_demo_invitations(organisation: Organisation, *, now: datetime) -> None:
    """A handful of invitations in different states, so the admin shows what the lifecycle looks like.
    Created once, together with the organisation."""
    channels = organisation.enabled_channels()
    states = [
        (InvitationStatus.CREATED, {}),
        (InvitationStatus.SENT, {"sent_at": now - timedelta(hours=3)}),
        (InvitationStatus.OPENED, {"sent_at": now - timedelta(days=1), "opened_at": now - timedelta(hours=20)}),
        (InvitationStatus.FAILED, {}),
    ]
    for index, (status, fields) in enumerate(states):
        invitation, _ = create_invitation(
            organisation=organisation,
            channel=channels[index % len(channels)],
            contact_moment=now - timedelta(days=1, hours=index),
            now=now - timedelta(days=1),
        )
        Invitation.objects.filter(pk=invitation.pk).update(status=status, **fields)
    # Expired: created three weeks ago and never answered.
    invitation, _ = create_invitation(
        organisation=organisation,
        channel=channels[0],
        contact_moment=now - timedelta(days=22),
        now=now - timedelta(days=21),
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        status=InvitationStatus.EXPIRED, sent_at=now - timedelta(days=21)
    )
    # Answered: through the same service a resident's submit goes through.
    invitation, _ = create_invitation(
        organisation=organisation, channel=channels[0], contact_moment=now - timedelta(hours=5), now=now
    )
    submit_response(
        organisation=organisation,
        channel=invitation.channel,
        score=8,
        source=Source.INVITATION,
        invitation=invitation,
        answers={"vraag_beantwoord": 1, "vriendelijkheid": 5},
        comment="Prima geholpen.",
    )


@dataclass(frozen=True)
class TryLinks:
    organisation: Organisation
    form: str
    one_click: str
    open: str


def example_links(organisation: Organisation, *, now: datetime) -> TryLinks:
    """A fresh invitation for the form and one for a one-click link, created on every run: only
    a token's hash is stored, so an older link cannot be printed again."""
    channel = Channel.BALIE
    _, form_token = create_invitation(organisation=organisation, channel=channel, contact_moment=now)
    _, click_token = create_invitation(organisation=organisation, channel=channel, contact_moment=now)
    open_path = reverse("surveys:open", kwargs={"slug": organisation.slug, "channel": channel})
    return TryLinks(
        organisation=organisation,
        form=invitation_url(form_token),
        one_click=dict(one_click_urls(click_token))[8],
        open=f"{settings.KTO_BASE_URL}{open_path}",
    )


# --- volumes ------------------------------------------------------------------------------------


VOLUME_SOURCES = {
    "stichtse-vecht": "Demo: persbericht Stichtse Vecht, 14 maart 2019",
    "utrecht": "Demo: kerncijfers gemeente Utrecht 2015-2018",
}


def seed_volumes(organisations: Iterable[Organisation]) -> int:
    """The published contact volumes (kerncijfers, VOLUMES) as monthly ContactVolume rows, each
    year spread over its months with :func:`monthly_split`, stored through the volume import's
    own writer (which records the changes for the rollups). An organisation that already has volumes
    is left alone. Returns the number of rows written."""
    written = 0
    for organisation in organisations:
        if ContactVolume.objects.filter(organisation=organisation).exists():
            continue
        rows = [
            VolumeRow(row=0, organisation=organisation, channel=channel, month=date(year, month, 1), count=count)
            for (slug, channel, year), total in sorted(VOLUMES.items())
            if slug == organisation.slug
            for month, count in monthly_split(total, slug=slug, channel=channel, year=year).items()
        ]
        if rows:
            written += save_volumes(rows, source=VOLUME_SOURCES.get(organisation.slug, "Demo")).rows
    return written


def seed_key_figures(organisations: Iterable[Organisation]) -> int:
    """The seeds' other kerncijfers (KEY_FIGURES), per year; an organisation that already has
    kerncijfers is left alone. Returns the number of values written."""
    written = 0
    for organisation in organisations:
        if KeyFigure.objects.filter(organisation=organisation).exists():
            continue
        for (slug, name, name_en, kind, channel, order), values in KEY_FIGURES.items():
            if slug != organisation.slug:
                continue
            figure = KeyFigure.objects.create(
                organisation=organisation, name=name, name_en=name_en, kind=kind, channel=channel, order=order
            )
            source = VOLUME_SOURCES.get(slug, "Demo")
            KeyFigureValue.objects.bulk_create(
                KeyFigureValue(key_figure=figure, period_start=date(year, 1, 1), value=value, source=source)
                for year, value in values.items()
            )
            written += len(values)
    return written


def seed_report_subscriptions(organisations: Iterable[Organisation]) -> int:
    """An example manager of each municipality receives both reports (in Dutch), so that a
    newcomer sees one at once (``manage.py send_reports --period 2018``). Returns how many
    subscriptions were made; an organisation that has one is left alone."""
    made = 0
    for organisation in organisations:
        if ReportSubscription.objects.filter(organisation=organisation).exists():
            continue
        subscription = ReportSubscription.objects.create(
            organisation=organisation, name="Directie (demo)", monthly=True, yearly=True, language="nl"
        )
        ReportRecipient.objects.create(subscription=subscription, email=f"manager@{organisation.slug}.example")
        made += 1
    return made


# --- the whole seed -----------------------------------------------------------------------------


@dataclass
class SeedResult:
    organisations: list[Organisation] = field(default_factory=list)
    logins: list[Login] = field(default_factory=list)
    links: list[TryLinks] = field(default_factory=list)
    responses_created: int = 0
    responses_total: int = 0


def blocks_for(organisation: Organisation, demo: DemoOrganisation, scale: float) -> list[Block]:
    blocks = []
    for year in YEARS:
        for channel in demo.channels:
            count = response_count(demo.slug, channel, year, scale)
            if count:
                blocks.append(Block(organisation, channel, year, TARGET_SCORES[(demo.slug, channel, year)], count))
    return blocks


def seed_demo(*, scale: float = 1.0, progress_bar: bool | None = None) -> SeedResult:
    """Create (or complete) the demo; safe to run again. ``scale`` multiplies the number of
    responses (tests use a small one); the yearly means are exact at any scale.
    ``progress_bar``: None shows it only on a terminal."""
    from tqdm import tqdm

    result = SeedResult()
    now = timezone.now()
    mask_cache: dict[str, str] = {}

    def masked(text: str) -> str:
        if text not in mask_cache:
            mask_cache[text] = mask_personal_data(text)
        return mask_cache[text]

    with transaction.atomic():
        group = ensure_kcc_group()
        admin, created = ensure_user(ADMIN_USERNAME, superuser=True)
        result.logins.append(Login(admin.username, "superuser (alle organisaties)", created))
        for demo in ORGANISATIONS:
            organisation, created = ensure_organisation(demo)
            result.organisations.append(organisation)
            result.logins.append(ensure_kcc_login(organisation, group))
            result.logins.append(ensure_beheerder_login(organisation))
            if created:
                create_demo_invitations(organisation, now=now)

    blocks = {
        organisation: blocks_for(organisation, demo, scale)
        for organisation, demo in zip(result.organisations, ORGANISATIONS, strict=True)
    }
    total = sum(block.count for org_blocks in blocks.values() for block in org_blocks)
    # tqdm's disable=None: shown on a terminal only.
    disable = None if progress_bar is None else not progress_bar
    with tqdm(total=total, desc="Demo responses", unit="resp", disable=disable) as bar:
        for organisation, org_blocks in blocks.items():
            bar.set_postfix_str(organisation.slug)
            result.responses_created += insert_blocks(organisation, org_blocks, masked=masked, progress=bar.update)

    seed_volumes(result.organisations)
    seed_key_figures(result.organisations)
    seed_report_subscriptions(result.organisations)
    result.links = [example_links(organisation, now=now) for organisation in result.organisations]
    result.responses_total = Response.objects.filter(organisation__in=result.organisations).count()
    return result
