"""Factories for the affiliates app's own models."""

import factory

from affiliates.models import Coupon, ProgramInvitation, ProgramMetrics
from tests import factories


class ProgramMetricsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramMetrics

    program = factory.SubFactory(factories.ProgramFactory)
    network = factory.LazyAttribute(lambda o: o.program.network)


class ProgramInvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramInvitation

    program = factory.SubFactory(factories.ProgramFactory)
    network = factory.LazyAttribute(lambda o: o.program.network)
    affiliate = factory.SubFactory(factories.AffiliateFactory, network=factory.SelfAttribute("..network"))


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    program = factory.SubFactory(factories.ProgramFactory)
    network = factory.LazyAttribute(lambda o: o.program.network)
    affiliate = factory.SubFactory(factories.AffiliateFactory, network=factory.SelfAttribute("..network"))
    code = factory.Sequence(lambda n: f"CODE{n}")
