"""Small helpers for affiliates tests: API clients for extra merchants and affiliates of a network."""

from rest_framework.test import APIClient

from network.models import ApiKey
from tests import factories


def client_for_affiliate(affiliate_membership: object) -> APIClient:
    client = APIClient()
    key = factories.api_key_for(network=affiliate_membership.network, user=affiliate_membership.user,
                                kind=ApiKey.ActorKind.AFFILIATE, actor_id=affiliate_membership.affiliate_id)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def client_for_merchant(merchant_membership: object) -> APIClient:
    client = APIClient()
    key = factories.api_key_for(network=merchant_membership.network, user=merchant_membership.user,
                                kind=ApiKey.ActorKind.MERCHANT, actor_id=merchant_membership.merchant_id)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def second_affiliate(tenant: object) -> tuple[object, APIClient]:
    """Another affiliate of the same network, with an API client."""
    membership = factories.AffiliateMembershipFactory(affiliate__network=tenant.network)
    return membership.affiliate, client_for_affiliate(membership)


def second_merchant(tenant: object) -> tuple[object, object, APIClient]:
    """Another merchant of the same network with an active auto-approving program, and an API client."""
    membership = factories.MerchantMembershipFactory(merchant__network=tenant.network)
    program = factories.ProgramFactory(merchant=membership.merchant)
    factories.CommissionRuleFactory(program=program)
    return membership.merchant, program, client_for_merchant(membership)
