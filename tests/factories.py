"""factory_boy factories; traits describe states (expired, answered, ...)."""

from datetime import timedelta

import factory
from django.utils import timezone

from surveys.invitations.models import Invitation
from surveys.invitations.services import create_invitation
from surveys.organisations.models import Channel, Organisation
from surveys.organisations.services import create_organisation
from surveys.responses.models import Response, Source
from surveys.responses.services import submit_response


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Gemeente {n}")
    slug = factory.Sequence(lambda n: f"gemeente-{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the service, so every organisation has its channels and default surveys.
        return create_organisation(**kwargs)


class InvitationFactory(factory.django.DjangoModelFactory):
    """Creates an invitation; the plain token is on ``invitation.token`` for tests."""

    class Meta:
        model = Invitation

    organisation = factory.SubFactory(OrganisationFactory)
    channel = Channel.BALIE
    contact_moment = factory.LazyFunction(timezone.now)
    language = "nl"
    now = None  # creation time; None means now

    class Params:
        expired = factory.Trait(now=factory.LazyFunction(lambda: timezone.now() - timedelta(days=20)))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        invitation, token = create_invitation(**kwargs)
        invitation.token = token
        return invitation


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    organisation = factory.SubFactory(OrganisationFactory)
    channel = Channel.BALIE
    score = 8
    source = Source.OPEN
    comment = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return submit_response(**kwargs)
