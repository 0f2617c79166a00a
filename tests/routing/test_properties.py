"""Property: in any tree of nodes, requests reach their destination and answers come back.

Stations all use the same message id at the same time (the correlation must keep them
apart); a frame is never forwarded more than hop-limit times; nothing stays pending.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ocppnet.routing import CSMS
from ocppnet.rpc.frames import Call, CallError, CallResult

from .network import Network


@st.composite
def trees(draw: st.DrawFn) -> tuple[list[int], list[int], int]:
    """(parent of each node, -1 = the CSMS; node of each station; hop limit)."""
    count = draw(st.integers(1, 7))
    parents = [draw(st.integers(-1, i - 1)) for i in range(count)]
    stations = draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=8))
    hop_limit = draw(st.integers(2, 9))
    return parents, stations, hop_limit


def build(parents: list[int], stations: list[int], hop_limit: int) -> tuple[Network, list[int]]:
    net = Network(hop_limit=hop_limit)
    net.router("CSMS-1", aliases=frozenset({CSMS}))
    depth: list[int] = []
    for i, parent in enumerate(parents):
        upper = "CSMS-1" if parent < 0 else f"N{parent}"
        net.router(f"N{i}")
        net.connect(upper, f"N{i}")
        net.routers[f"N{i}"].table.add_static(CSMS, f"up:{upper}")
        depth.append(1 if parent < 0 else depth[parent] + 1)
    for s, node in enumerate(stations):
        net.attach(f"N{node}", f"CS-{s}")
    return net, [depth[node] for node in stations]


@settings(max_examples=150, deadline=None)
@given(trees())
def test_every_request_is_answered_within_the_hop_limit(
    tree: tuple[list[int], list[int], int],
) -> None:
    parents, stations, hop_limit = tree
    net, depths = build(parents, stations, hop_limit)
    for s in range(len(stations)):
        net.station_sends(f"CS-{s}", Call("1", "Heartbeat", {}))  # all the same id
    net.run()

    reachable = []
    for s, depth in enumerate(depths):
        (answer,) = net.stations[f"CS-{s}"].received
        if depth + 1 <= hop_limit:  # PATH at the CSMS: the station and every node
            assert answer == CallResult("1", {"answeredBy": "CSMS-1"})
            reachable.append(s)
        else:
            assert isinstance(answer, CallError) and answer.error_code == "NetworkingError"
            assert "hop limit" in answer.error_description

    for s in range(len(stations)):
        net.originate("CSMS-1", Call(f"c{s}", "GetVariables", {}, dest=f"CS-{s}"))
    net.run()
    csms = net.routers["CSMS-1"]
    answered = {f.message_id: f for f in csms.delivered if isinstance(f, CallResult)}
    for s in range(len(stations)):
        if s in reachable:
            assert net.stations[f"CS-{s}"].received[-1] == Call(f"c{s}", "GetVariables", {})
            assert answered[f"c{s}"].payload == {"station": f"CS-{s}"}
            assert answered[f"c{s}"].path[0] == f"CS-{s}"
        else:
            assert f"c{s}" not in answered
    unknown = [r.message_id for r in csms.local_replies if r.error_code == "UnknownClient"]
    assert sorted(unknown) == sorted(f"c{s}" for s in range(len(stations)) if s not in reachable)

    assert max(net.forwards.values()) <= hop_limit
    assert net.longest_path <= hop_limit  # no frame on any wire carries a longer PATH
    assert all(len(r.pending) == 0 for r in net.routers.values())
    assert all(r.drops == [] for r in net.routers.values())
