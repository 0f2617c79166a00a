import pytest

from ocppnet.station.ev import ElectricVehicle


def test_constant_power_below_taper_then_linear_to_zero() -> None:
    ev = ElectricVehicle(capacity_wh=10_000, soc=0.5, max_power_w=7_000, taper_soc=0.8)
    assert ev.demand_w() == 7_000
    ev.soc = 0.9
    assert ev.demand_w() == pytest.approx(3_500)
    ev.soc = 1.0
    assert ev.demand_w() == 0 and ev.full


def test_absorb_never_overfills() -> None:
    ev = ElectricVehicle(capacity_wh=1_000, soc=0.9)
    ev.absorb(500)
    assert ev.soc == 1.0


def test_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        ElectricVehicle(soc=1.5)
    with pytest.raises(ValueError):
        ElectricVehicle(capacity_wh=0)
