"""docs/adhoc-payment.md's configuration tables are the models' fields (no drift)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppnet.config import Section, describe_section
from ocppnet.station.webpay_run import StationSection, WebPaymentsSection
from ocppnet.webpay_service.config import WebpaySection, WebpayStation

DOC = (Path(__file__).parents[2] / "docs" / "adhoc-payment.md").read_text()


@pytest.mark.parametrize(("title", "model"), [
    ("`[webpay]`", WebpaySection), ("`[[webpay.stations]]`", WebpayStation),
    ("`[station]`", StationSection), ("`[web_payments]`", WebPaymentsSection)])
def test_the_table_lists_every_field(title: str, model: type[Section]) -> None:
    table = DOC.split(f"\n{title}\n", 1)[1].lstrip("\n").split("\n\n", 1)[0]
    rows = [line for line in table.splitlines()[2:] if line.startswith("|")]
    expected = [f"| `{k}` | {t} | {d} | {x} |" for k, t, d, x in describe_section(model)]
    assert rows == expected
