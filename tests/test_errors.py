"""ocppnet.errors: wire errors map to exactly one code each; local errors never do."""

from __future__ import annotations

from ocppnet import errors
from ocppnet.errors import LocalError, OcppNetError, WireError, error_class


def subclasses(base: type[OcppNetError]) -> set[type[OcppNetError]]:
    found = set(base.__subclasses__())
    for cls in list(found):
        found |= subclasses(cls)
    return found


def test_every_error_is_wire_or_local() -> None:
    declared = {
        obj for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, OcppNetError)
    } - {OcppNetError, WireError, LocalError}
    assert declared == subclasses(WireError) | subclasses(LocalError)
    assert not subclasses(WireError) & subclasses(LocalError)


def test_each_wire_code_reads_back_to_its_class() -> None:
    for cls in subclasses(WireError):
        assert error_class(cls.code) is cls, cls
    for cls in subclasses(LocalError):
        assert error_class(cls.code) is errors.GenericError, cls
    assert error_class("NoSuchCode") is errors.GenericError
