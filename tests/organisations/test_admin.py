"""The staff admin as a whole: Dutch and English, scoped to the staff member's organisation,
roles, and the organisations' own pages."""

import pytest
from django.contrib.auth import get_user_model

from surveys.organisations.models import Channel, Organisation, Role
from surveys.organisations.scoping import organisation_lookup, scope_queryset
from surveys.questionnaires.models import Question, Survey, SurveyVersion
from surveys.responses.models import Answer, Response
from tests.factories import ResponseFactory
from tests.staff import balie_version, change_url, logged_in, staff_user, version_post_data

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_admin_speaks_dutch_with_the_kto_header(client, kcc_a):
    page = logged_in(client, kcc_a).get("/admin/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "KTO – klanttevredenheid" in text
    assert "Reacties" in text  # the models a KCC-medewerker may view are listed


def test_admin_switches_to_english(client, org_a, beheerder_a):
    version = balie_version(org_a)
    ResponseFactory(organisation=org_a)
    client = logged_in(client, beheerder_a)
    assert "KTO – customer satisfaction" in client.get("/admin/?lang=en").content.decode()
    assert "This version already has responses" in client.get(change_url(version)).content.decode()


def test_the_language_switch_on_a_list_is_no_filter(client, org_a, kcc_a):
    """?lang=en on any list (not only the dashboard) switches the language and shows the list,
    instead of Django's "?e=1" answer to an unknown filter."""
    ResponseFactory(organisation=org_a, comment="Snel geholpen")
    page = logged_in(client, kcc_a).get("/admin/surveys/response/?lang=en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Snel geholpen" in text and "Select response to view" in text


def test_staff_without_membership_sees_no_kto_data(client, org_a):
    ResponseFactory(organisation=org_a, comment="Geheim")
    user = staff_user("los")
    client = logged_in(client, user)
    assert "Reacties" not in client.get("/admin/").content.decode()
    assert client.get("/admin/surveys/response/").status_code == 403


def test_staff_with_permissions_but_without_membership_still_sees_no_rows(client, org_a):
    from django.contrib.auth.models import Permission

    ResponseFactory(organisation=org_a, comment="Geheim")
    user = staff_user("los")
    user.user_permissions.add(Permission.objects.get(codename="view_response"))
    page = logged_in(client, user).get("/admin/surveys/response/")
    assert page.status_code == 200
    assert "Geheim" not in page.content.decode()


def test_staff_see_only_their_own_organisations_responses(client, org_a, org_b, kcc_a):
    ResponseFactory(organisation=org_a, comment="Vriendelijk geholpen in Maarssen")
    ResponseFactory(organisation=org_b, comment="Lang gewacht in Utrecht")
    page = logged_in(client, kcc_a).get("/admin/surveys/response/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Vriendelijk geholpen in Maarssen" in text
    assert "Lang gewacht in Utrecht" not in text


def test_another_organisations_response_does_not_exist_for_staff(client, org_a, org_b, kcc_a):
    theirs = ResponseFactory(organisation=org_b, comment="Lang gewacht in Utrecht")
    page = logged_in(client, kcc_a).get(change_url(theirs), follow=True)
    text = page.content.decode()
    assert "bestaat niet" in text
    assert "Lang gewacht in Utrecht" not in text


def test_superuser_sees_every_organisation(client, org_a, org_b, superuser):
    ResponseFactory(organisation=org_a, comment="Vriendelijk geholpen in Maarssen")
    ResponseFactory(organisation=org_b, comment="Lang gewacht in Utrecht")
    text = logged_in(client, superuser).get("/admin/surveys/response/").content.decode()
    assert "Vriendelijk geholpen in Maarssen" in text
    assert "Lang gewacht in Utrecht" in text


@pytest.mark.parametrize(
    "url",
    [
        "/admin/surveys/response/",
        "/admin/surveys/survey/",
        "/admin/surveys/surveyversion/",
        "/admin/surveys/invitation/",
        "/admin/surveys/contact/",
        "/admin/surveys/apikey/",
        "/admin/surveys/contactvolume/",
    ],
)
def test_only_superusers_filter_by_organisation(client, org_a, org_b, kcc_a, superuser, url):
    as_superuser = logged_in(client, superuser).get(url).content.decode()
    assert as_superuser.count("?organisation__id__exact=") + as_superuser.count("organisation__id__exact=") >= 2
    client.logout()
    as_staff = logged_in(client, kcc_a).get(url).content.decode()
    assert "organisation__id__exact=" not in as_staff


@pytest.mark.parametrize(
    ("url", "own", "other"),
    [
        ("/admin/surveys/organisation/", "Stichtse Vecht", "Utrecht"),
        ("/admin/surveys/survey/", "Stichtse Vecht · Balie", "Utrecht · Balie"),
        ("/admin/surveys/surveyversion/", "Stichtse Vecht · Balie · v1", "Utrecht · Balie · v1"),
    ],
)
def test_every_changelist_is_scoped(client, org_a, org_b, kcc_a, url, own, other):
    text = logged_in(client, kcc_a).get(url).content.decode()
    assert own in text
    assert other not in text


def test_another_organisations_survey_version_and_organisation_do_not_exist(client, org_a, org_b, beheerder_a):
    client = logged_in(client, beheerder_a)
    for obj in (org_b, balie_version(org_b), Survey.objects.get(organisation=org_b, channel=Channel.BALIE)):
        assert "bestaat niet" in client.get(change_url(obj), follow=True).content.decode()
    before = balie_version(org_b).score_label_nl
    client.post(change_url(balie_version(org_b)), version_post_data(balie_version(org_b), score_label_nl="Gehackt"))
    assert balie_version(org_b).score_label_nl == before


def test_organisation_lookup_is_found_for_every_kto_model():
    assert organisation_lookup(Organisation) == "pk"
    assert organisation_lookup(Response) == "organisation"
    assert organisation_lookup(SurveyVersion) == "survey__organisation"
    assert organisation_lookup(Question) == "version__survey__organisation"
    assert organisation_lookup(Answer) == "response__organisation"
    assert organisation_lookup(User) is None


def test_scope_queryset_shows_nothing_for_models_without_an_organisation(org_a, kcc_a):
    assert not scope_queryset(User.objects.all(), kcc_a).exists()


def organisation_post_data(organisation, **changes):
    data = {
        "name": organisation.name,
        "logo": "",
        "brand_colour": organisation.brand_colour,
        "invitation_valid_days": organisation.invitation_valid_days,
        "invitation_cooldown_days": organisation.invitation_cooldown_days,
        "follow_up_below": organisation.follow_up_below,
        "comment_retention_months": organisation.comment_retention_months,
        "response_retention_months": organisation.response_retention_months,
    }
    channels = list(organisation.channels.order_by("pk"))
    data.update(
        {
            "channels-TOTAL_FORMS": str(len(channels)),
            "channels-INITIAL_FORMS": str(len(channels)),
            "channels-MIN_NUM_FORMS": "0",
            "channels-MAX_NUM_FORMS": "1000",
        }
    )
    for i, channel in enumerate(channels):
        data.update(
            {
                f"channels-{i}-id": channel.pk,
                f"channels-{i}-organisation": organisation.pk,
                f"channels-{i}-channel": channel.channel,
                f"channels-{i}-sample_one_in": channel.sample_one_in,
            }
        )
        if channel.enabled:
            data[f"channels-{i}-enabled"] = "on"
    data.update(changes)
    return data


def test_beheerder_edits_branding_and_channel_sampling_but_not_the_slug(client, org_a, beheerder_a):
    data = organisation_post_data(org_a, brand_colour="#003366", slug="gekaapt")
    balie_index = list(org_a.channels.order_by("pk").values_list("channel", flat=True)).index(Channel.BALIE)
    data[f"channels-{balie_index}-sample_one_in"] = "5"
    page = logged_in(client, beheerder_a).post(change_url(org_a), data)
    assert page.status_code == 302, page.content.decode()
    org_a.refresh_from_db()
    assert (org_a.brand_colour, org_a.slug) == ("#003366", "stichtse-vecht")
    assert org_a.channels.get(channel=Channel.BALIE).sample_one_in == 5


def test_bad_brand_colour_gets_a_message(client, org_a, beheerder_a):
    page = logged_in(client, beheerder_a).post(change_url(org_a), organisation_post_data(org_a, brand_colour="blauw"))
    assert page.status_code == 200
    assert "Gebruik een kleur als #154273." in page.content.decode()


def test_kcc_medewerker_may_only_view_the_organisation(client, org_a, kcc_a):
    client = logged_in(client, kcc_a)
    assert client.get(change_url(org_a)).status_code == 200
    assert client.post(change_url(org_a), organisation_post_data(org_a, brand_colour="#003366")).status_code == 403
    org_a.refresh_from_db()
    assert org_a.brand_colour == "#154273"


def test_staff_cannot_add_organisations_or_memberships(client, org_a, beheerder_a):
    client = logged_in(client, beheerder_a)
    assert client.get("/admin/surveys/organisation/add/").status_code == 403
    assert client.get("/admin/surveys/staffmembership/add/").status_code == 403


def test_superuser_adds_an_organisation_whose_channels_get_default_surveys(client, superuser):
    data = {
        "name": "Houten",
        "slug": "houten",
        "brand_colour": "#154273",
        "invitation_valid_days": "14",
        "invitation_cooldown_days": "90",
        "follow_up_below": "6",
        "comment_retention_months": "24",
        "response_retention_months": "60",
        "channels-TOTAL_FORMS": "1",
        "channels-INITIAL_FORMS": "0",
        "channels-MIN_NUM_FORMS": "0",
        "channels-MAX_NUM_FORMS": "1000",
        "channels-0-channel": "telefoon",
        "channels-0-enabled": "on",
        "channels-0-sample_one_in": "1",
    }
    page = logged_in(client, superuser).post("/admin/surveys/organisation/add/", data)
    assert page.status_code == 302, page.content.decode()
    houten = Organisation.objects.get(slug="houten")
    assert houten.enabled_channels() == ["telefoon"]
    version = Survey.objects.get(organisation=houten, channel="telefoon").current_version()
    assert version.score_label_nl == "Welk rapportcijfer geeft u voor het telefoongesprek?"


def test_relation_filters_only_list_the_users_own_organisation(rf, org_a, org_b, kcc_a):
    from django.contrib import admin

    from surveys.organisations.scoping import OrganisationScopedAdminMixin

    class FilteredResponseAdmin(OrganisationScopedAdminMixin, admin.ModelAdmin):
        list_filter = ("organisation", "survey_version", "channel")

    request = rf.get("/admin/surveys/response/")
    request.user = kcc_a
    changelist = FilteredResponseAdmin(Response, admin.site).get_changelist_instance(request)
    # A filter with a single choice is not shown at all; none may offer another organisation's rows.
    related = {spec.field_path: spec for spec in changelist.filter_specs if hasattr(spec, "lookup_choices")}
    assert "Utrecht" not in str([spec.lookup_choices for spec in related.values()])
    assert {name for _pk, name in related["survey_version"].lookup_choices} == {
        "Stichtse Vecht · Balie · v1",
        "Stichtse Vecht · E-mail · v1",
    }


def test_roles_grant_their_permissions(org_a, kcc_a, beheerder_a):
    assert kcc_a.has_perm("surveys.view_response")
    assert not kcc_a.has_perm("surveys.change_organisation")
    assert beheerder_a.has_perm("surveys.change_surveyversion")
    assert not beheerder_a.has_perm("surveys.change_response")
    beheerder_a.is_active = False
    assert not beheerder_a.has_perm("surveys.view_response")
    assert not staff_user("los").has_perm("surveys.view_response")


@pytest.mark.parametrize("who", ["superuser", "beheerder", "kcc"])
def test_every_admin_page_of_kto_opens_without_errors(client, org_a, org_b, who):
    """A smoke test over every registered KTO admin, including those of other modules."""
    from django.contrib import admin

    ResponseFactory(organisation=org_a, comment="Prima", answers={"vraag_beantwoord": 1})
    ResponseFactory(organisation=org_b, comment="Matig")
    user = {
        "superuser": lambda: User.objects.create_superuser(username="root", password="x"),
        "beheerder": lambda: staff_user("b", org_a, Role.BEHEERDER),
        "kcc": lambda: staff_user("k", org_a, Role.KCC),
    }[who]()
    client = logged_in(client, user)
    assert client.get("/admin/").status_code == 200
    for model in admin.site._registry:
        if model._meta.app_label != "surveys":
            continue
        base = f"/admin/surveys/{model._meta.model_name}/"
        listing = client.get(base)
        assert listing.status_code in (200, 403), base
        if who == "superuser":
            assert listing.status_code == 200, base
        assert client.get(base + "add/").status_code in (200, 403), base
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            assert client.get(f"{base}{first.pk}/change/", follow=True).status_code in (200, 403), base
