"""The A/B test (two-proportion z-test), income diversification and the SVG charts."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from network.actors import AFFILIATE, Actor
from reports import charts, selectors, services
from tests import factories
from tests.reports.factories import conversion, link_for


def test_z_test_matches_a_hand_computed_value():
    # A: 50 / 1000 = 5 %, B: 80 / 1000 = 8 %. Pooled p = 130 / 2000 = 0.065;
    # SE = sqrt(0.065 × 0.935 × (1/1000 + 1/1000)) = 0.0110250; z = 0.03 / SE = 2.72110;
    # two-sided p = erfc(z / √2) = 0.0065066.
    result = selectors.two_proportion_test(clicks_a=1000, conversions_a=50, clicks_b=1000, conversions_b=80)
    assert result.z == pytest.approx(2.72110, abs=1e-5)
    assert result.p_value == pytest.approx(0.0065066, abs=1e-7)
    assert (result.rate_a, result.rate_b, result.difference) == (Decimal("5.00"), Decimal("8.00"), Decimal("3.00"))
    assert result.significant is True
    assert result.verdict == "B converts better than A; the difference is statistically significant at 95 %."


def test_z_test_says_when_there_is_not_enough_evidence():
    # 5 / 100 vs 10 / 100 → pooled 0.075, z = 0.05 / 0.037249 = 1.3423, p = 0.1795 (not significant).
    result = selectors.two_proportion_test(clicks_a=100, conversions_a=5, clicks_b=100, conversions_b=10)
    assert result.p_value == pytest.approx(0.17950, abs=1e-4)
    assert result.significant is False
    assert result.verdict.startswith("Not enough evidence yet")


def test_z_test_a_better_and_degenerate_inputs():
    assert selectors.two_proportion_test(clicks_a=1000, conversions_a=80, clicks_b=1000,
                                         conversions_b=50).verdict.startswith("A converts better than B")
    empty = selectors.two_proportion_test(clicks_a=0, conversions_a=0, clicks_b=10, conversions_b=1)
    assert (empty.z, empty.p_value, empty.significant) == (None, None, False)
    none = selectors.two_proportion_test(clicks_a=10, conversions_a=0, clicks_b=10, conversions_b=0)
    assert none.p_value is None and none.significant is False


def actor_for(tenant) -> Actor:
    return Actor(network=tenant.network, user=tenant.affiliate_user, kind=AFFILIATE, role="owner",
                 affiliate_id=tenant.affiliate.pk)


def test_diversification_warns_above_half_from_one_program(tenant):
    at = datetime(2026, 3, 10, 9, tzinfo=UTC)
    big = link_for(tenant)
    second = factories.ProgramFactory(merchant__network=tenant.network, name="Second")
    small = link_for(tenant, program=second)
    conversion(big, at=at, commission_minor=6000, sub1="blog")
    conversion(small, at=at, commission_minor=4000, sub1="")
    services.refresh_rollups(now=at + timedelta(days=1))
    found = selectors.rollups(actor=actor_for(tenant),
                              date_range=selectors.DateRange(date(2026, 3, 1), date(2026, 3, 31), "UTC"))

    [usd] = selectors.diversification(found, network=tenant.network)

    assert usd.total_minor == 10000
    assert [(s.label, s.amount_minor, s.share) for s in usd.by_program] == [
        (tenant.program.name, 6000, Decimal("0.6")), ("Second", 4000, Decimal("0.4"))]
    assert usd.concentrated is not None and usd.concentrated.label == tenant.program.name
    assert {s.label: s.share for s in usd.by_sub1} == {"blog": Decimal("0.6"), "(none)": Decimal("0.4")}
    assert len(usd.by_merchant) == 2


def test_diversification_is_quiet_at_exactly_half(tenant):
    at = datetime(2026, 3, 10, 9, tzinfo=UTC)
    second = factories.ProgramFactory(merchant__network=tenant.network)
    conversion(link_for(tenant), at=at, commission_minor=5000)
    conversion(link_for(tenant, program=second), at=at, commission_minor=5000)
    services.refresh_rollups(now=at + timedelta(days=1))
    found = selectors.rollups(actor=actor_for(tenant),
                              date_range=selectors.DateRange(date(2026, 3, 1), date(2026, 3, 31), "UTC"))
    [usd] = selectors.diversification(found, network=tenant.network)
    assert usd.concentrated is None  # the warning is for MORE than CONCENTRATION_WARNING_SHARE


def test_epc_and_rates_are_exact(tenant):
    figures = selectors.Figures(currency="USD", values={"clicks": 3, "conversions": 1, "commission_minor": 1000,
                                                        "approved_conversions": 2, "reversed_conversions": 1})
    assert figures.epc_minor == 33333  # 1000 × 100 / 3 = 33333.33 → half-even
    assert figures.conversion_rate == Decimal("33.33")
    assert figures.reversal_rate == Decimal("33.33")


def test_charts_render_accessible_svg_with_axis_labels():
    svg = charts.line_chart(title="Clicks <per> day", x_labels=["1 Mar", "2 Mar", "3 Mar"],
                            lines=[charts.Line("Clicks", [1, 7, 3])], y_label="count")
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title" in svg and "Clicks &lt;per&gt; day" in svg
    assert ">10<" in svg and ">1 Mar<" in svg and ">3 Mar<" in svg  # y axis top (nice max) and x labels
    bar = charts.bar_chart(title="Funnel", labels=["Clicks", "Conversions"], values=[200, 4], y_label="count")
    assert bar.count("<rect") == 2 and ">200<" in bar
    assert charts.nice_max(0) == 1 and charts.nice_max(130) == 200 and charts.nice_max(5000) == 5000
