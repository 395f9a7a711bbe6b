"""`manage.py demo` loads every app's part, and a second run creates nothing new."""

from io import StringIO

import pytest
from django.core.management import call_command

from affiliates.models import Affiliate, TrackingLink
from merchants.models import Merchant, Program
from network.models import Network
from payouts.models import LedgerTransaction, PayoutProfile
from tracking.models import Click, Conversion

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Network, Merchant, Program, Affiliate, TrackingLink, Click,
                                                     Conversion, LedgerTransaction, PayoutProfile))


def test_demo_loads_every_app_and_is_idempotent():
    out = StringIO()
    call_command("demo", stdout=out)
    first = counts()
    assert first[:5] == (1, 4, 3, 5, first[4]) and first[4] > 0
    assert first[5] > 1000 and first[6] > 100 and first[7] > 0 and first[8] == 5
    assert "owner@demo.test" in out.getvalue() and "affiliate@wanderlust.demo" in out.getvalue()

    call_command("demo", stdout=StringIO())
    assert counts() == first
