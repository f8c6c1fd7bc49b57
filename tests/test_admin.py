"""The KCC staff admin: scoped to the staff member's organisation, read-only responses, and
survey versions that freeze once they have responses."""

import json
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys import rollups
from surveys.admin import choice_errors
from surveys.admin_scoping import organisation_lookup, scope_queryset
from surveys.models import (
    Answer,
    Channel,
    Organisation,
    Question,
    Response,
    Role,
    RollupChange,
    ScoreRollup,
    StaffMembership,
    Survey,
    SurveyVersion,
)
from tests.factories import OrganisationFactory, ResponseFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def org_a(db):
    return OrganisationFactory(name="Stichtse Vecht", slug="stichtse-vecht", channels=[Channel.BALIE, Channel.EMAIL])


@pytest.fixture
def org_b(db):
    return OrganisationFactory(name="Utrecht", slug="utrecht", channels=[Channel.BALIE, Channel.EMAIL])


def staff_user(username, organisation=None, role=Role.KCC):
    user = User.objects.create_user(username=username, password="x", is_staff=True)
    if organisation is not None:
        StaffMembership.objects.create(user=user, organisation=organisation, role=role)
    return user


@pytest.fixture
def kcc_a(org_a):
    return staff_user("kcc-a", org_a, Role.KCC)


@pytest.fixture
def beheerder_a(org_a):
    return staff_user("beheerder-a", org_a, Role.BEHEERDER)


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(username="root", password="x")


def logged_in(client, user):
    client.force_login(user)
    return client


def balie_version(organisation) -> SurveyVersion:
    return Survey.objects.get(organisation=organisation, channel=Channel.BALIE).current_version()


def version_post_data(version: SurveyVersion, **changes) -> dict:
    """The change form of ``version`` as a browser would post it, with ``changes`` applied
    (``questions`` replaces the list of question dicts)."""
    texts = ("intro_nl", "intro_en", "score_label_nl", "score_label_en", "comment_label_nl", "comment_label_en")
    data = {field: getattr(version, field) for field in texts}
    questions = changes.pop("questions", None)
    if questions is None:
        questions = [
            {
                "id": q.pk,
                "order": q.order,
                "key": q.key,
                "kind": q.kind,
                "text_nl": q.text_nl,
                "text_en": q.text_en,
                "required": q.required,
                "choices": q.choices,
            }
            for q in version.questions.all()
        ]
    data.update(changes)
    initial = sum(1 for q in questions if q.get("id"))
    data.update(
        {
            "questions-TOTAL_FORMS": str(len(questions)),
            "questions-INITIAL_FORMS": str(initial),
            "questions-MIN_NUM_FORMS": "0",
            "questions-MAX_NUM_FORMS": "1000",
        }
    )
    for i, question in enumerate(questions):
        prefix = f"questions-{i}-"
        for key, value in question.items():
            if key == "required":
                if value:
                    data[prefix + key] = "on"
            elif key == "choices":
                data[prefix + key] = value if isinstance(value, str) else json.dumps(value)
            elif key == "DELETE":
                if value:
                    data[prefix + key] = "on"
            else:
                data[prefix + key] = "" if value is None else str(value)
        data[prefix + "version"] = str(version.pk) if version.pk else ""
        if question.get("id"):
            # The hidden initial value Django renders for fields with a callable default.
            data[f"initial-{prefix}choices"] = json.dumps(Question.objects.get(pk=question["id"]).choices)
    return data


def change_url(obj) -> str:
    return f"/admin/surveys/{obj._meta.model_name}/{obj.pk}/change/"


# --- site -------------------------------------------------------------------------------------


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


# --- scoping ----------------------------------------------------------------------------------


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


# --- responses are read-only ------------------------------------------------------------------


def test_response_page_shows_answers_read_only(client, org_a, kcc_a):
    response = ResponseFactory(
        organisation=org_a, score=7, comment="Prima", answers={"vraag_beantwoord": 1, "vriendelijkheid": 4}
    )
    page = logged_in(client, kcc_a).get(change_url(response))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Prima" in text
    assert "Is uw vraag beantwoord?" in text
    assert "4 / 5" in text
    assert 'name="_save"' not in text
    assert 'name="comment"' not in text


@pytest.mark.parametrize("who", ["kcc", "beheerder", "superuser"])
def test_nobody_can_add_or_edit_responses(client, org_a, who):
    user = {
        "kcc": lambda: staff_user("k", org_a, Role.KCC),
        "beheerder": lambda: staff_user("b", org_a, Role.BEHEERDER),
        "superuser": lambda: User.objects.create_superuser(username="root", password="x"),
    }[who]()
    response = ResponseFactory(organisation=org_a, score=3, comment="Slecht")
    client = logged_in(client, user)
    assert client.get("/admin/surveys/response/add/").status_code == 403
    posted = client.post(change_url(response), {"score": "10", "comment": "Top"})
    assert posted.status_code == 403
    response.refresh_from_db()
    assert (response.score, response.comment) == (3, "Slecht")


def test_staff_cannot_delete_responses(client, org_a, beheerder_a):
    response = ResponseFactory(organisation=org_a)
    client = logged_in(client, beheerder_a)
    assert client.post(f"/admin/surveys/response/{response.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Response.objects.filter(pk=response.pk).exists()


def test_superuser_deletes_a_response_and_it_leaves_the_figures(client, org_a, superuser):
    response = ResponseFactory(organisation=org_a)
    rollups.rollup_full()
    assert ScoreRollup.objects.filter(organisation=org_a, period_start=response.contact_month).exists()
    page = logged_in(client, superuser).post(f"/admin/surveys/response/{response.pk}/delete/", {"post": "yes"})
    assert page.status_code == 302
    assert not Response.objects.filter(pk=response.pk).exists()
    assert RollupChange.objects.filter(organisation=org_a, month=response.contact_month).exists()
    rollups.rollup_incremental()
    assert not ScoreRollup.objects.filter(organisation=org_a).exists()


def test_response_changelist_has_no_n_plus_one_queries(client, org_a, kcc_a):
    client = logged_in(client, kcc_a)
    ResponseFactory(organisation=org_a, comment="een")
    client.get("/admin/surveys/response/")  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/admin/surveys/response/").status_code == 200
    for i in range(15):
        ResponseFactory(organisation=org_a, comment=f"reactie {i}")
    with CaptureQueriesContext(connection) as many:
        page = client.get("/admin/surveys/response/")
    assert "reactie 14" in page.content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)


def test_responses_can_be_filtered_and_searched(client, org_a, kcc_a):
    ResponseFactory(organisation=org_a, channel=Channel.BALIE, comment="Snel geholpen aan de balie")
    ResponseFactory(organisation=org_a, channel=Channel.EMAIL, comment="Mail bleef liggen", language="en")
    client = logged_in(client, kcc_a)
    balie = client.get("/admin/surveys/response/?channel__exact=balie").content.decode()
    assert "Snel geholpen" in balie and "Mail bleef liggen" not in balie
    english = client.get("/admin/surveys/response/?language=en").content.decode()
    assert "Mail bleef liggen" in english and "Snel geholpen" not in english
    found = client.get("/admin/surveys/response/?q=liggen").content.decode()
    assert "Mail bleef liggen" in found and "Snel geholpen" not in found
    month = Response.objects.first().contact_month.isoformat()
    this_month = client.get(f"/admin/surveys/response/?contact_month={month}").content.decode()
    assert "Mail bleef liggen" in this_month
    assert "Mail bleef liggen" not in client.get("/admin/surveys/response/?contact_month=2001-01-01").content.decode()


def test_a_malformed_month_filter_is_not_a_server_error(client, org_a, kcc_a):
    page = logged_in(client, kcc_a).get("/admin/surveys/response/?contact_month=gisteren")
    assert page.status_code == 302
    assert page.url.endswith("?e=1")


# --- organisations and channels ---------------------------------------------------------------


def organisation_post_data(organisation, **changes):
    data = {
        "name": organisation.name,
        "logo": "",
        "brand_colour": organisation.brand_colour,
        "invitation_valid_days": organisation.invitation_valid_days,
        "invitation_cooldown_days": organisation.invitation_cooldown_days,
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


# --- survey versions --------------------------------------------------------------------------


def test_editing_a_version_without_responses_changes_it_in_place(client, org_a, beheerder_a):
    version = balie_version(org_a)
    data = version_post_data(version, score_label_nl="Hoe tevreden bent u over de balie?")
    page = logged_in(client, beheerder_a).post(change_url(version), data)
    assert page.status_code == 302, page.content.decode()
    version.refresh_from_db()
    assert version.score_label_nl == "Hoe tevreden bent u over de balie?"
    assert SurveyVersion.objects.filter(survey=version.survey).count() == 1


def test_editing_a_frozen_version_creates_a_new_version(client, org_a, beheerder_a):
    version = balie_version(org_a)
    ResponseFactory(organisation=org_a, answers={"vraag_beantwoord": 1})
    old_texts = (version.score_label_nl, list(version.questions.values_list("key", "text_nl")))
    data = version_post_data(version, score_label_nl="Hoe tevreden bent u over de balie?")
    data["questions-0-text_nl"] = "Heeft u gekregen waarvoor u kwam?"
    page = logged_in(client, beheerder_a).post(change_url(version), data, follow=True)
    text = page.content.decode()
    assert "Versie 1 heeft al reacties en is daarom niet gewijzigd" in text
    assert "opgeslagen als versie 2" in text

    version.refresh_from_db()
    assert (version.score_label_nl, list(version.questions.values_list("key", "text_nl"))) == old_texts
    current = version.survey.current_version()
    assert current.number == 2
    assert current.score_label_nl == "Hoe tevreden bent u over de balie?"
    assert list(current.questions.values_list("key", "text_nl")) == [
        ("vraag_beantwoord", "Heeft u gekregen waarvoor u kwam?"),
        ("vriendelijkheid", old_texts[1][1][1]),
    ]
    # The old answers still point at the questions they answered.
    assert Answer.objects.get().question.version == version

    form = client.get(f"/o/{org_a.slug}/balie/").content.decode()
    assert "Hoe tevreden bent u over de balie?" in form
    assert "Heeft u gekregen waarvoor u kwam?" in form


def test_save_and_continue_on_a_frozen_version_opens_the_new_version(client, org_a, beheerder_a):
    version = balie_version(org_a)
    ResponseFactory(organisation=org_a)
    data = version_post_data(version, intro_nl="Nieuwe inleiding", _continue="1")
    page = logged_in(client, beheerder_a).post(change_url(version), data)
    assert page.status_code == 302
    assert page.url == change_url(version.survey.current_version())
    assert version.survey.current_version().number == 2


def test_deleting_and_adding_questions_on_a_frozen_version(client, org_a, beheerder_a):
    version = balie_version(org_a)
    ResponseFactory(organisation=org_a)
    data = version_post_data(version)
    data["questions-1-DELETE"] = "on"
    data.update(
        {
            "questions-TOTAL_FORMS": "3",
            "questions-2-order": "5",
            "questions-2-key": "reden",
            "questions-2-kind": "choice",
            "questions-2-text_nl": "Waarvoor kwam u?",
            "questions-2-text_en": "What did you come for?",
            "questions-2-choices": json.dumps(
                [
                    {"value": "paspoort", "nl": "Paspoort", "en": "Passport"},
                    {"value": "rijbewijs", "nl": "Rijbewijs", "en": "Driving licence"},
                ]
            ),
            "questions-2-version": str(version.pk),
        }
    )
    page = logged_in(client, beheerder_a).post(change_url(version), data)
    assert page.status_code == 302, page.content.decode()
    assert sorted(version.questions.values_list("key", flat=True)) == ["vraag_beantwoord", "vriendelijkheid"]
    current = version.survey.current_version()
    assert sorted(current.questions.values_list("key", flat=True)) == ["reden", "vraag_beantwoord"]
    assert "Rijbewijs" in client.get(f"/o/{org_a.slug}/balie/").content.decode()


def test_saving_a_frozen_version_without_changes_creates_no_version(client, org_a, beheerder_a):
    version = balie_version(org_a)
    ResponseFactory(organisation=org_a)
    page = logged_in(client, beheerder_a).post(change_url(version), version_post_data(version))
    assert page.status_code == 302
    assert SurveyVersion.objects.filter(survey=version.survey).count() == 1


def test_older_versions_are_read_only(client, org_a, beheerder_a):
    from surveys import services

    old = balie_version(org_a)
    ResponseFactory(organisation=org_a)
    services.new_survey_version(version=old)
    client = logged_in(client, beheerder_a)
    page = client.get(change_url(old))
    assert page.status_code == 200
    assert "Vervangen door een nieuwere versie" in page.content.decode()
    assert client.post(change_url(old), version_post_data(old, score_label_nl="Anders")).status_code == 403
    old.refresh_from_db()
    assert old.score_label_nl != "Anders"


def test_a_frozen_version_says_so_on_its_page(client, org_a, kcc_a):
    version = balie_version(org_a)
    ResponseFactory(organisation=org_a)
    text = logged_in(client, kcc_a).get(change_url(version)).content.decode()
    assert "Deze versie heeft al reacties" in text


def test_adding_a_version_gets_the_next_number_and_only_own_surveys(client, org_a, org_b, beheerder_a):
    survey = Survey.objects.get(organisation=org_a, channel=Channel.BALIE)
    client = logged_in(client, beheerder_a)
    form = client.get(f"/admin/surveys/surveyversion/add/?survey={survey.pk}").content.decode()
    assert "Stichtse Vecht · Balie" in form and "Utrecht" not in form

    blank = SurveyVersion(survey=survey, score_label_nl="Uw cijfer voor de balie?")
    data = version_post_data(blank, questions=[])
    data["survey"] = survey.pk
    assert client.post("/admin/surveys/surveyversion/add/", data).status_code == 302
    assert survey.current_version().number == 2
    assert survey.current_version().score_label_nl == "Uw cijfer voor de balie?"

    theirs = Survey.objects.get(organisation=org_b, channel=Channel.BALIE)
    data["survey"] = theirs.pk
    refused = client.post("/admin/surveys/surveyversion/add/", data)
    assert refused.status_code == 200
    assert "Selecteer een geldige keuze" in refused.content.decode()
    assert theirs.versions.count() == 1


def test_kcc_medewerker_cannot_edit_surveys(client, org_a, kcc_a):
    version = balie_version(org_a)
    client = logged_in(client, kcc_a)
    assert client.post(change_url(version), version_post_data(version, score_label_nl="Anders")).status_code == 403
    assert client.get("/admin/surveys/surveyversion/add/").status_code == 403


# --- question validation ----------------------------------------------------------------------


def post_question(client, version, **question):
    data = version_post_data(
        version,
        questions=[{"order": 9, "key": "reden", "kind": "choice", "text_nl": "Waarvoor kwam u?", **question}],
    )
    return client.post(change_url(version), data)


@pytest.mark.parametrize(
    ("kind", "choices", "message"),
    [
        ("choice", "", "Een keuzevraag heeft minstens twee opties nodig"),
        ("choice", [{"value": "a", "nl": "A"}], "Een keuzevraag heeft minstens twee opties nodig"),
        ("choice", {"value": "a"}, "De opties moeten een lijst zijn"),
        ("choice", ["a", "b"], "Optie 1 moet de vorm"),
        ("choice", [{"value": "a", "nl": "A"}, {"value": "a", "nl": "B"}], "komt vaker voor"),
        ("choice", [{"value": "a", "nl": "A"}, {"value": "b"}], "Optie 2 mist een Nederlandse tekst"),
        ("choice", [{"value": "a", "nl": "A"}, {"nl": "B"}], "Optie 2 mist een"),
        ("choice", [{"value": "a", "nl": "A", "de": "A"}, {"value": "b", "nl": "B"}], "onbekende sleutels: de"),
        ("choice", "[{not json", "JSON"),
        ("yesno", [{"value": "a", "nl": "A"}, {"value": "b", "nl": "B"}], "Alleen een keuzevraag heeft opties"),
    ],
)
def test_bad_question_options_get_a_clear_message(client, org_a, beheerder_a, kind, choices, message):
    version = balie_version(org_a)
    page = post_question(logged_in(client, beheerder_a), version, kind=kind, choices=choices)
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not version.questions.filter(key="reden").exists()


def test_a_valid_choice_question_is_saved(client, org_a, beheerder_a):
    version = balie_version(org_a)
    options = [{"value": "paspoort", "nl": "Paspoort", "en": "Passport"}, {"value": "anders", "nl": "Iets anders"}]
    page = post_question(logged_in(client, beheerder_a), version, choices=options)
    assert page.status_code == 302, page.content.decode()
    assert version.questions.get(key="reden").choices == options


def test_a_choice_value_longer_than_the_answer_column_is_refused():
    errors = choice_errors([{"value": "x" * 51, "nl": "X"}, {"value": "y", "nl": "Y"}])
    assert errors == ['De "value" van optie 1 is langer dan 50 tekens.']


def test_months_filter_lists_recent_months(client, org_a, kcc_a):
    text = logged_in(client, kcc_a).get("/admin/surveys/response/").content.decode()
    assert f"?contact_month={date.today().replace(day=1).isoformat()}" in text


def test_relation_filters_only_list_the_users_own_organisation(rf, org_a, org_b, kcc_a):
    from django.contrib import admin

    from surveys.admin_scoping import OrganisationScopedAdminMixin

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
