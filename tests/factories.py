"""factory_boy factories shared by every test package."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from affiliates.models import Affiliate, AffiliateMembership, Enrollment, TrackingLink
from merchants.models import CommissionRule, Merchant, MerchantMembership, Program, ProgramTerms
from network import services
from network.models import ApiKey, Membership, Network


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    username = factory.LazyAttribute(lambda o: o.email)
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def verified(self, create: bool, extracted: object, **kwargs: object) -> None:
        from allauth.account.models import EmailAddress

        if create:
            self.save()
            EmailAddress.objects.get_or_create(user=self, email=self.email, defaults={"verified": True,
                                                                                      "primary": True})


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Network

    slug = factory.Sequence(lambda n: f"net{n}")
    name = factory.Sequence(lambda n: f"Network {n}")
    default_currency = "USD"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    network = factory.SubFactory(NetworkFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.OWNER


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    network = factory.SubFactory(NetworkFactory)
    name = factory.Sequence(lambda n: f"Merchant {n}")


class MerchantMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MerchantMembership

    merchant = factory.SubFactory(MerchantFactory)
    network = factory.LazyAttribute(lambda o: o.merchant.network)
    user = factory.SubFactory(UserFactory)
    role = MerchantMembership.Role.ADMIN


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    merchant = factory.SubFactory(MerchantFactory)
    network = factory.LazyAttribute(lambda o: o.merchant.network)
    name = factory.Sequence(lambda n: f"Program {n}")
    landing_url = "https://shop.example.com/"
    allowed_domains = factory.LazyFunction(lambda: ["shop.example.com", "*.example.com"])
    currency = "USD"
    status = Program.Status.ACTIVE
    approval = Program.Approval.AUTO


class CommissionRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommissionRule

    program = factory.SubFactory(ProgramFactory)
    network = factory.LazyAttribute(lambda o: o.program.network)
    action = "sale"
    type = CommissionRule.Type.PERCENT
    rate = Decimal("10")


class ProgramTermsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramTerms

    program = factory.SubFactory(ProgramFactory)
    network = factory.LazyAttribute(lambda o: o.program.network)
    version = 1


class AffiliateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Affiliate

    network = factory.SubFactory(NetworkFactory)
    name = factory.Sequence(lambda n: f"Affiliate {n}")
    country = "DE"


class AffiliateMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AffiliateMembership

    affiliate = factory.SubFactory(AffiliateFactory)
    network = factory.LazyAttribute(lambda o: o.affiliate.network)
    user = factory.SubFactory(UserFactory)
    role = AffiliateMembership.Role.OWNER


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    program = factory.SubFactory(ProgramFactory)
    network = factory.LazyAttribute(lambda o: o.program.network)
    affiliate = factory.SubFactory(AffiliateFactory, network=factory.SelfAttribute("..network"))
    status = Enrollment.Status.APPROVED
    accepted_terms_version = 1


class TrackingLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingLink

    enrollment = factory.SubFactory(EnrollmentFactory)
    network = factory.LazyAttribute(lambda o: o.enrollment.network)
    program = factory.LazyAttribute(lambda o: o.enrollment.program)
    affiliate = factory.LazyAttribute(lambda o: o.enrollment.affiliate)


def api_key_for(*, network: Network, user: object, kind: str, actor_id: int | None = None,
                scopes: list[str] | None = None) -> str:
    """A full API key string for tests."""
    _, key = services.create_api_key(network=network, user=user, actor_kind=kind, actor_id=actor_id,
                                     scopes=scopes)
    return key


__all__ = ["ApiKey"]
