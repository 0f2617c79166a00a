"""ocppnet.errors: wire errors map to exactly one code each; local errors never do."""

from __future__ import annotations

from ocppnet import errors
from ocppnet.errors import LocalError, OcppNetError, WireError, error_class


def subclasses(base: type[OcppNetError]) -> set[type[OcppNetError]]:
    """Subclasses declared in ocppnet.errors (other modules may refine them)."""
    found = {cls for cls in base.__subclasses__() if cls.__module__ == errors.__name__}
    for cls in list(found):
        found |= subclasses(cls)
    return found


def test_every_error_is_wire_or_local() -> None:
    declared = {
        obj for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, OcppNetError)
    } - {OcppNetError, WireError, LocalError}
    # other modules subclass these too (e.g. the store's StoreError): they inherit the side
    here = {c for c in subclasses(WireError) | subclasses(LocalError)
            if c.__module__ == errors.__name__}
    assert declared == here
    assert not subclasses(WireError) & subclasses(LocalError)
    assert subclasses(OcppNetError) - {WireError, LocalError} == (
        subclasses(WireError) | subclasses(LocalError))


def test_each_wire_code_reads_back_to_its_class() -> None:
    for cls in subclasses(WireError):
        if cls.__module__ == errors.__name__:  # elsewhere, a subclass shares its base's code
            assert error_class(cls.code) is cls, cls
    for cls in subclasses(LocalError):
        assert error_class(cls.code) is errors.GenericError, cls
    assert error_class("NoSuchCode") is errors.GenericError
