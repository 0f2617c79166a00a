"""One configuration reader for every process: TOML tables declared as typed pydantic models.

Each TOML section is a :class:`Section` (unknown keys are errors, values are checked by type)
and is read with :func:`parse_section` or :func:`load_section`; every problem becomes one
:class:`~ocppnet.errors.ConfigError` line naming the file, the dotted key and what was
expected, e.g. ``node.toml: node.upstreams[0].url: field required``. See docs/configuration.md.
"""

from ocppnet.config.reader import (
    RelPath,
    Section,
    describe_section,
    in_range,
    load_section,
    parse_section,
    read_toml,
)

__all__ = [
    "RelPath",
    "Section",
    "describe_section",
    "in_range",
    "load_section",
    "parse_section",
    "read_toml",
]
