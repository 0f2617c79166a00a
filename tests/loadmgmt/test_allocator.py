"""The allocation rule: never above the site limit, max-min fair, pause below min, hysteresis."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ocppnet.loadmgmt.allocator import (
    EvseDemand,
    Hysteresis,
    allocate,
    demand_w,
    water_fill,
    with_hysteresis,
)


def evse(name: str, *, at: float = 0.0, min_w: float = 1_400.0, max_w: float = 11_000.0,
         measured: float | None = None) -> EvseDemand:
    return EvseDemand((name, 1), min_w, max_w, at, measured)


def test_equal_share_when_everyone_wants_more_than_the_limit() -> None:
    limits = allocate(11_000, [evse("A"), evse("B", at=1), evse("C", at=2)])
    assert limits == {("A", 1): 3_666, ("B", 1): 3_666, ("C", 1): 3_666}


def test_everyone_gets_its_maximum_when_the_limit_allows() -> None:
    limits = allocate(50_000, [evse("A"), evse("B", max_w=7_400)])
    assert limits == {("A", 1): 11_000, ("B", 1): 7_400}


def test_a_small_maximum_leaves_its_unused_share_to_the_others() -> None:
    limits = allocate(11_000, [evse("A", max_w=2_000), evse("B"), evse("C")])
    assert limits == {("A", 1): 2_000, ("B", 1): 4_500, ("C", 1): 4_500}


def test_an_evse_drawing_less_than_its_limit_frees_headroom() -> None:
    # B's car tapers: it draws 1.5 kW of its 5.5 kW, wants 1.5 + 1 kW margin
    previous = {("A", 1): 5_500.0, ("B", 1): 5_500.0}
    limits = allocate(11_000, [evse("A", measured=5_500), evse("B", measured=1_500)],
                      previous, margin_w=1_000)
    assert limits == {("A", 1): 8_500, ("B", 1): 2_500}


def test_below_the_minimum_the_latest_session_pauses() -> None:
    # 4 kW for three EVSEs is 1.33 kW each, under the 1.4 kW minimum: C (latest) waits
    limits = allocate(4_000, [evse("C", at=3), evse("A", at=1), evse("B", at=2)])
    assert limits == {("A", 1): 2_000, ("B", 1): 2_000, ("C", 1): 0}


def test_no_capacity_pauses_everyone() -> None:
    assert allocate(0, [evse("A"), evse("B")]) == {("A", 1): 0, ("B", 1): 0}
    assert allocate(-500, [evse("A")]) == {("A", 1): 0}


def test_demand_is_clamped_to_min_and_max() -> None:
    assert demand_w(evse("A", measured=100), 5_000, 1_000) == 1_400
    assert demand_w(evse("A", measured=None), 5_000, 1_000) == 11_000
    assert demand_w(evse("A", measured=4_800), 5_000, 1_000) == 11_000  # at its limit


def test_water_fill_is_max_min_fair() -> None:
    share = water_fill(10, {("a", 1): 1, ("b", 1): 100, ("c", 1): 100})
    assert share == {("a", 1): 1, ("b", 1): 4.5, ("c", 1): 4.5}


def test_hysteresis_keeps_small_changes_and_sends_big_ones() -> None:
    h = Hysteresis(abs_w=500, rel=0.05)
    sent = {("A", 1): 3_666.0, ("B", 1): 3_666.0}
    # +200 W each: not worth a message, and keeping the old limits stays under the site limit
    kept = with_hysteresis(11_000, {("A", 1): 3_866, ("B", 1): 3_866}, sent, h)
    assert kept == sent
    moved = with_hysteresis(11_000, {("A", 1): 5_500, ("B", 1): 5_500}, sent, h)
    assert moved == {("A", 1): 5_500, ("B", 1): 5_500}


def test_hysteresis_never_keeps_an_old_limit_that_breaks_the_site_limit() -> None:
    h = Hysteresis(abs_w=500, rel=0.05)
    sent = {("A", 1): 5_500.0, ("B", 1): 5_500.0}
    wanted = {("A", 1): 5_300.0, ("B", 1): 5_300.0}  # the site limit dropped to 10.6 kW
    result = with_hysteresis(10_600, wanted, sent, h)
    assert result == wanted
    # only as much as needed is sent: with room for one old limit, one is kept
    assert with_hysteresis(10_800, wanted, sent, h) == {("A", 1): 5_300, ("B", 1): 5_500}


def test_hysteresis_always_sends_pause_and_resume() -> None:
    h = Hysteresis(abs_w=5_000, rel=0.5)
    assert with_hysteresis(5_000, {("A", 1): 0}, {("A", 1): 1_400}, h) == {("A", 1): 0}
    assert with_hysteresis(5_000, {("A", 1): 1_400}, {("A", 1): 0}, h) == {("A", 1): 1_400}


demands = st.lists(
    st.tuples(
        st.floats(0, 5_000), st.floats(0, 30_000), st.floats(0, 1e6),
        st.none() | st.floats(0, 30_000),
    ),
    max_size=12,
)


@given(
    site=st.floats(-1_000, 200_000),
    raw=demands,
    previous=st.lists(st.floats(0, 30_000), max_size=12),
    abs_w=st.floats(0, 2_000),
    rel=st.floats(0, 0.5),
)
def test_limits_never_exceed_the_site_limit(
    site: float, raw: list[tuple[float, float, float, float | None]], previous: list[float],
    abs_w: float, rel: float,
) -> None:
    evses = [
        EvseDemand((f"CS{i}", 1), min(a, b), max(a, b), at, measured)
        for i, (a, b, at, measured) in enumerate(raw)
    ]
    sent = {(f"CS{i}", 1): w for i, w in enumerate(previous)}
    limits = allocate(site, evses, sent)
    assert sum(limits.values()) <= max(0.0, site)
    for e in evses:
        value = limits[e.key]
        assert value == 0 or e.min_w <= value <= e.max_w
    effective = with_hysteresis(site, limits, sent, Hysteresis(abs_w, rel))
    assert sum(effective.values()) <= max(0.0, site)
    assert effective.keys() == limits.keys()


@given(site=st.floats(0, 100_000), count=st.integers(1, 10))
def test_equal_evses_get_equal_limits(site: float, count: int) -> None:
    evses = [evse(f"CS{i}", at=i) for i in range(count)]
    charging = {w for w in allocate(site, evses).values() if w > 0}
    assert len(charging) <= 1
