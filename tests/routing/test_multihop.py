"""Multi-hop scenarios without sockets: every hop runs the real decide()."""

from __future__ import annotations

from ocppnet.routing import CSMS, DEFAULT_ROUTE, ForwardingFilter
from ocppnet.rpc.frames import Call, CallError, CallResult

from .network import Network


def chain() -> Network:
    """CS-1 -> NODE-A -> NODE-B -> CSMS-1 (an overlay CSMS answering for "CSMS")."""
    net = Network()
    net.router("CSMS-1", aliases=frozenset({CSMS}))
    net.router("NODE-B")
    net.router("NODE-A")
    net.connect("CSMS-1", "NODE-B")
    net.connect("NODE-B", "NODE-A")
    net.routers["NODE-B"].table.add_static(CSMS, "up:CSMS-1")
    net.routers["NODE-A"].table.add_static(CSMS, "up:NODE-B")
    net.attach("NODE-A", "CS-1")
    return net


def test_station_to_csms_two_nodes_and_back() -> None:
    net = chain()
    net.station_sends("CS-1", Call("42", "Heartbeat", {}))
    net.run()
    (seen,) = net.routers["CSMS-1"].delivered
    assert seen == Call("42", "Heartbeat", {}, dest=CSMS, path=("CS-1", "NODE-A", "NODE-B"))
    assert net.stations["CS-1"].received == [CallResult("42", {"answeredBy": "CSMS-1"})]
    assert all(len(r.pending) == 0 for r in net.routers.values())


def test_csms_call_reaches_station_two_nodes_down() -> None:
    net = chain()
    net.station_sends("CS-1", Call("boot", "BootNotification", {}))  # learning
    net.run()
    net.originate("CSMS-1", Call("r1", "Reset", {"type": "Immediate"}, dest="CS-1"))
    net.run()
    assert net.stations["CS-1"].received[-1] == Call("r1", "Reset", {"type": "Immediate"})
    answer = net.routers["CSMS-1"].delivered[-1]
    assert answer == CallResult(
        "r1", {"station": "CS-1"}, dest="CSMS-1", path=("CS-1", "NODE-A", "NODE-B")
    )


def test_topology_announcements_make_station_reachable_before_it_speaks() -> None:
    net = chain()
    net.announce("NODE-A", "NODE-B")
    net.run()
    net.announce("NODE-B", "CSMS-1")
    net.run()
    routes = net.routers["CSMS-1"].table.routes("CS-1", net.now)
    assert [(r.origin, r.link) for r in routes] == [("topology", "dn:NODE-B")]
    net.originate("CSMS-1", Call("r2", "GetVariables", {}, dest="CS-1"))
    net.run()
    assert net.routers["CSMS-1"].delivered[-1].payload == {"station": "CS-1"}
    csms = net.routers["CSMS-1"].table
    net.now = 121.0  # the announcement aged out; the answer to r2 taught a learned route
    expired = csms.expire(net.now)
    assert sorted((r.destination, r.origin) for r in expired) == [
        ("CS-1", "topology"),
        ("NODE-A", "topology"),
    ]
    assert [r.origin for r in csms.routes("CS-1", net.now)] == ["learned"]


def test_learned_route_expiry() -> None:
    net = chain()
    net.station_sends("CS-1", Call("1", "Heartbeat", {}))
    net.run()
    net.now = 299.0
    assert net.routers["CSMS-1"].table.lookup("CS-1", net.now) is not None
    net.now = 300.0  # learned at t=0 with a 300 s ttl, nothing heard since
    net.originate("CSMS-1", Call("3", "Reset", {}, dest="CS-1"))
    assert net.routers["CSMS-1"].local_replies[-1].error_code == "UnknownClient"
    assert [r.origin for r in net.routers["NODE-B"].table.expire(net.now)] == ["learned"]
    assert net.routers["NODE-A"].table.lookup("CS-1", 1e9) is not None  # connected
    net.station_sends("CS-1", Call("4", "Heartbeat", {}))  # speaks again: learned again
    net.run()
    net.originate("CSMS-1", Call("5", "Reset", {}, dest="CS-1"))
    net.run()
    assert net.stations["CS-1"].received[-1] == Call("5", "Reset", {})


def test_configured_loop_is_cut_with_an_error() -> None:
    net = Network()
    for name in ("NODE-A", "NODE-B", "NODE-C"):
        net.router(name)
    net.connect("NODE-B", "NODE-A")
    net.connect("NODE-C", "NODE-B")
    net.connect("NODE-A", "NODE-C")  # closes the ring
    net.routers["NODE-A"].table.add_static(DEFAULT_ROUTE, "up:NODE-B")
    net.routers["NODE-B"].table.add_static(DEFAULT_ROUTE, "up:NODE-C")
    net.routers["NODE-C"].table.add_static(DEFAULT_ROUTE, "up:NODE-A")
    net.attach("NODE-A", "CS-1")
    net.station_sends("CS-1", Call("7", "Heartbeat", {}))
    steps = net.run()
    (error,) = net.stations["CS-1"].received
    assert isinstance(error, CallError) and error.error_code == "NetworkingError"
    assert "loop detected" in error.error_description
    assert net.forwards[("Call", "7", "CS-1")] == 3 and steps == 4


def test_forged_path_is_rejected_and_never_reaches_the_csms() -> None:
    net = chain()
    net.router("NODE-X", answer=False)  # a compromised box under NODE-A
    net.connect("NODE-A", "NODE-X")
    net.routers["NODE-X"].table.add_static(CSMS, "up:NODE-A")
    net.originate(
        "NODE-X", Call("f", "RequestStartTransaction", {}, dest=CSMS, path=("CS-1", "NODE-X"))
    )
    net.run()
    assert net.routers["CSMS-1"].delivered == []
    (error,) = net.routers["NODE-X"].delivered
    assert isinstance(error, CallError) and "spoofed path" in error.error_description
    assert error.dest == "NODE-X"


def test_several_upstreams_chosen_by_route_and_firewall() -> None:
    net = Network()
    net.router("CSMS-1", aliases=frozenset({CSMS}))
    net.router("GRID-1")
    net.router("ANALYTICS")
    rules = {"rules": [{"action": "Set*", "source": "ANALYTICS", "verdict": "reject"}]}
    net.router("NODE-A", filters=ForwardingFilter.from_config(rules))
    for upstream in ("CSMS-1", "GRID-1", "ANALYTICS"):
        net.connect(upstream, "NODE-A")
        net.routers[upstream].table.add_static(DEFAULT_ROUTE, "dn:NODE-A")
    net.routers["NODE-A"].table.add_static(CSMS, "up:CSMS-1")
    net.attach("NODE-A", "CS-1")

    net.station_sends("CS-1", Call("s1", "StatusNotification", {}))
    net.originate("GRID-1", Call("g1", "SetChargingProfile", {"limit": 11}, dest="CS-1"))
    net.originate("ANALYTICS", Call("a1", "SetVariables", {}, dest="CS-1"))
    net.originate("ANALYTICS", Call("a2", "GetVariables", {}, dest="CS-1"))
    net.run()

    assert [f.message_id for f in net.routers["CSMS-1"].delivered] == ["s1"]
    assert net.routers["GRID-1"].delivered == [
        CallResult("g1", {"station": "CS-1"}, dest="GRID-1", path=("CS-1", "NODE-A"))
    ]
    analytics = {f.message_id: f for f in net.routers["ANALYTICS"].delivered}
    assert isinstance(analytics["a1"], CallError) and analytics["a1"].error_code == "SecurityError"
    assert isinstance(analytics["a2"], CallResult)
    assert [f.message_id for f in net.stations["CS-1"].received] == ["g1", "a2", "s1"]


def test_upstream_down_holds_and_answers_station() -> None:
    net = chain()
    net.routers["NODE-A"].table.remove_link("up:NODE-B")
    net.station_sends("CS-1", Call("t1", "TransactionEvent", {}))
    net.run()
    (held,) = net.routers["NODE-A"].held
    assert held.link_id == "up:NODE-B" and held.frame.path == ("CS-1", "NODE-A")
    (error,) = net.stations["CS-1"].received
    assert isinstance(error, CallError) and error.error_code == "NetworkingError"
