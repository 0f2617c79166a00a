"""Every official and extension schema loads and compiles; the catalog finds them by name."""

from importlib import resources

import pytest

from ocppnet.validation import extension_actions, is_known_action, warm_up

OFFICIAL = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}
EXTENSIONS = {
    "NotifyNetworkTopology",
    "AddSignaturePolicy",
    "DeleteSignaturePolicy",
    "AddUserRole",
    "DeleteUserRole",
    "BinaryDataTransfer",
    "GetFile",
    "SendFile",
    "ListDirectory",
    "DeleteFile",
    "AddTrustedKey",
    "RevokeTrustedKey",
    "MirrorData",
    "GridHeartbeat",
    "GridMeasurement",
    "SecureDataTransfer",
}
SEND_ONLY = {"MirrorData"}  # no response schema: a SEND is never answered


def schema_files(package: str, *parts: str) -> list[str]:
    folder = resources.files(package).joinpath(*parts)
    return [f.name for f in folder.iterdir() if f.name.endswith(".json")]


def test_every_schema_of_every_version_compiles() -> None:
    ours = len(schema_files("ocppnet.validation", "schemas"))
    assert ours == 2 * len(EXTENSIONS - SEND_ONLY) + len(SEND_ONLY)
    for version, folder in OFFICIAL.items():
        official = len(schema_files("ocpp", folder, "schemas"))
        assert official > 70
        assert warm_up(version) == official + ours


def test_extension_actions_are_known_in_every_version() -> None:
    assert extension_actions() == EXTENSIONS
    for version in OFFICIAL:
        assert all(is_known_action(version, action) for action in EXTENSIONS)


@pytest.mark.parametrize(
    ("version", "action", "known"),
    [
        ("1.6", "StartTransaction", True),
        ("1.6", "TransactionEvent", False),
        ("2.0.1", "TransactionEvent", True),
        ("2.0.1", "StartTransaction", False),
        ("2.1", "NotifyPeriodicEventStream", True),  # SEND-only message, file has no suffix
        ("2.1", "AFRRSignal", True),
        ("2.0.1", "AFRRSignal", False),
        ("2.1", "BootNotificationRequest", False),
        ("2.1", "", False),
        ("2.1", "Reset-Signed", True),  # OCPP 2.1 Part 4 chapter 7 signed messages
        ("2.0.1", "Reset-Signed", False),
        ("2.1", "NoSuchThing-Signed", False),
    ],
)
def test_known_actions_follow_the_version(version: str, action: str, known: bool) -> None:
    assert is_known_action(version, action) is known


def test_unknown_version_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown OCPP version"):
        is_known_action("2.0", "Heartbeat")
