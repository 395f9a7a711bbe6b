"""Sub-ids on /c/<code>: the click's own query parameters win over the link's stored sub-ids (docs/affiliate.md)."""

import pytest

from tests.tracking.factories import link_for
from tests.tracking.test_click import click_id_of, visit
from tracking.models import Click

pytestmark = pytest.mark.django_db


def test_query_sub_ids_override_stored_ones_and_blank_keeps_stored(tenant):
    link = link_for(tenant, sub1="stored1", sub2="stored2", sub3="stored3", sub4="", sub5="stored5")
    response = visit(f"/c/{link.code}?sub1=spring&sub3=&sub4=new4&sub5={'x' * 150}")
    click = Click.objects.get()
    assert click_id_of(response) == click.click_id
    # sub1 overridden, sub2 kept, an empty sub3 keeps the stored value, sub4 added, sub5 cut to 100 characters.
    assert (click.sub1, click.sub2, click.sub3, click.sub4, click.sub5) == (
        "spring", "stored2", "stored3", "new4", "x" * 100)


def test_stored_sub_ids_apply_without_query(tenant):
    link = link_for(tenant, sub1="a", sub2="b", sub3="c", sub4="d", sub5="e")
    visit(f"/c/{link.code}")
    click = Click.objects.get()
    assert (click.sub1, click.sub2, click.sub3, click.sub4, click.sub5) == ("a", "b", "c", "d", "e")


def test_override_is_per_click_and_leaves_the_link_alone(tenant):
    link = link_for(tenant, sub1="stored")
    visit(f"/c/{link.code}?sub1=first", REMOTE_ADDR="81.2.69.142")
    visit(f"/c/{link.code}", REMOTE_ADDR="81.2.69.143")
    assert list(Click.objects.order_by("id").values_list("sub1", flat=True)) == ["first", "stored"]
    link.refresh_from_db()
    assert link.sub1 == "stored"
