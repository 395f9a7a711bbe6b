import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from network.models import ApiKey, Domain, Membership, Network


def run_bootstrap(*extra: str) -> dict:
    out = StringIO()
    call_command("bootstrap_network", "--slug", "globex", "--name", "Globex", "--owner-email", "Owner@Globex.test",
                 "--password", "s3cret-pass-word", *extra, stdout=out)
    return json.loads(out.getvalue())


def test_bootstrap_prints_one_json_line_with_a_working_key(db):
    result = run_bootstrap("--currency", "EUR", "--domain", "aff.globex.test")
    assert set(result) == {"network", "owner", "api_key"}
    assert (result["network"], result["owner"]) == ("globex", "owner@globex.test")
    network = Network.objects.get(slug="globex")
    assert network.default_currency == "EUR"
    assert Domain.objects.get(host="aff.globex.test").network == network
    assert Membership.objects.get(network=network).role == "owner"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {result['api_key']}")
    assert client.get("/api/v1/me/").json()["role"] == "owner"


def test_bootstrap_twice_fails_clearly_and_changes_nothing(db):
    run_bootstrap()
    counts = (Network.objects.count(), Membership.objects.count(), ApiKey.objects.count())
    with pytest.raises(CommandError, match=r"slug: A network with the slug .globex. already exists\."):
        run_bootstrap()
    assert (Network.objects.count(), Membership.objects.count(), ApiKey.objects.count()) == counts


def test_bootstrap_refuses_a_bad_currency_and_writes_nothing(db):
    with pytest.raises(CommandError, match="default_currency"):
        run_bootstrap("--currency", "EURO")
    assert not Network.objects.filter(slug="globex").exists()
