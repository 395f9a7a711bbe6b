"""Fixtures shared by every test: two networks, a merchant and an affiliate in each, API clients.

Every fixture set has an outsider: `other_network` with its own merchant and affiliate, so each
test can check that another tenant sees nothing.
"""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from network.models import ApiKey, Membership, Network
from tests import factories


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings: object, tmp_path: object) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    from django.core.cache import cache

    cache.clear()


@dataclass
class Tenant:
    """One network with a staff owner, a merchant (admin user, program) and an affiliate (owner user)."""

    network: Network
    owner: object
    merchant: object
    merchant_user: object
    program: object
    affiliate: object
    affiliate_user: object

    def client_for(self, kind: str) -> APIClient:
        client = APIClient()
        if kind == "staff":
            key = factories.api_key_for(network=self.network, user=self.owner, kind=ApiKey.ActorKind.STAFF)
        elif kind == "merchant":
            key = factories.api_key_for(network=self.network, user=self.merchant_user,
                                        kind=ApiKey.ActorKind.MERCHANT, actor_id=self.merchant.pk)
        else:
            key = factories.api_key_for(network=self.network, user=self.affiliate_user,
                                        kind=ApiKey.ActorKind.AFFILIATE, actor_id=self.affiliate.pk)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return client


def make_tenant(slug: str) -> Tenant:
    network = factories.NetworkFactory(slug=slug, name=f"{slug.title()} Network")
    owner = factories.MembershipFactory(network=network, role=Membership.Role.OWNER).user
    merchant_membership = factories.MerchantMembershipFactory(merchant__network=network)
    program = factories.ProgramFactory(merchant=merchant_membership.merchant)
    factories.CommissionRuleFactory(program=program)
    factories.ProgramTermsFactory(program=program)
    affiliate_membership = factories.AffiliateMembershipFactory(affiliate__network=network)
    return Tenant(network=network, owner=owner, merchant=merchant_membership.merchant,
                  merchant_user=merchant_membership.user, program=program,
                  affiliate=affiliate_membership.affiliate, affiliate_user=affiliate_membership.user)


@pytest.fixture
def tenant(db: None) -> Tenant:
    return make_tenant("acme")


@pytest.fixture
def other_tenant(db: None) -> Tenant:
    return make_tenant("rival")


@pytest.fixture
def network(tenant: Tenant) -> Network:
    return tenant.network


@pytest.fixture
def other_network(other_tenant: Tenant) -> Network:
    return other_tenant.network


@pytest.fixture
def staff_api(tenant: Tenant) -> APIClient:
    return tenant.client_for("staff")


@pytest.fixture
def merchant_api(tenant: Tenant) -> APIClient:
    return tenant.client_for("merchant")


@pytest.fixture
def affiliate_api(tenant: Tenant) -> APIClient:
    return tenant.client_for("affiliate")
