import argparse

import pytest

from ocppnet.station import cli


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["station", *argv])


def test_options_become_a_fleet_config() -> None:
    args = parse("--url", "ws://127.0.0.1:1/ocpp", "--count", "3", "--version", "1.6",
                 "--meter-interval", "15", "--rate", "10", "--evses", "2", "--speed", "60")
    config = cli.build_config(args)
    assert config.count == 3 and config.version == "1.6" and config.id_pattern == "CS-{:05d}"
    assert config.scenario.meter_interval_s == 15 and config.station.evse_count == 2
    assert config.speed == 60 and config.rate == 10 and config.ssl_context is None


@pytest.mark.parametrize(("argv", "message"), [
    (["--url", "http://x/ocpp"], "--url must start with ws:// or wss://"),
    (["--url", "ws://x/ocpp", "--count", "0"], "--count must be at least 1"),
    (["--url", "ws://x/ocpp", "--count", "2", "--id", "CS-{name}"], "does not format"),
    (["--url", "ws://x/ocpp", "--ca-file", "ca.pem"], "need a wss:// URL"),
    (["--url", "wss://x/ocpp", "--cert", "c.pem"], "--cert and --key go together"),
    (["--url", "wss://x/ocpp", "--ca-file", "/nonexistent/ca.pem"], "cannot load TLS files"),
    (["--url", "ws://x/ocpp", "--rate", "0"], "must be > 0"),
    (["--url", "ws://x/ocpp", "--duration", "-1"], "--duration must be > 0"),
    (["--url", "ws://x/ocpp", "--meter-interval", "0"], "meter_interval_s must be > 0"),
])
def test_bad_input_is_one_line_and_exit_2(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(*argv)
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ocppnet station: ") and message in err
