"""The scale-out benchmark's plan of idle clients (no processes): each client process gets
its own 127.0.0.x source address and at most its share of sockets, the URLs in turn."""

from __future__ import annotations

from benchmarks.bench_scaleout import group_ids, spread


def test_spread_keeps_each_client_under_its_socket_budget_on_its_own_address() -> None:
    groups = spread(100_000, ["ws://a/ocpp"], per_client=12_500, first_source=10)
    assert sum(n for _, n, _ in groups) == 100_000
    assert max(n for _, n, _ in groups) <= 12_500
    assert len({source for _, _, source in groups}) == len(groups) == 8
    assert groups[0][2] == "127.0.0.10"


def test_spread_takes_every_frontend_url_at_least_once() -> None:
    urls = [f"ws://127.0.0.1:{9000 + i}/ocpp" for i in range(4)]
    groups = spread(10, urls, per_client=100, first_source=2)
    assert [url for url, _, _ in groups] == urls
    assert [n for _, n, _ in groups] == [3, 3, 2, 2]
    assert group_ids("S", groups)[:4] == ["S0x0", "S0x1", "S0x2", "S1x0"]
