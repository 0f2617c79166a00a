"""The ``[nap]`` table of a CSMS file: which site data to publish and which key signs it.

```toml
[nap]
sites = "sites.toml"       # the [sites] file (docs/access-point.md), relative to this file
signing_key = "operator"   # a private key in the key store
# keystore = "keys"        # default: [security].keystore of the same file
```

:func:`load_nap` returns the site data and the key, or None when the file has no ``[nap]``;
every problem is one ConfigError naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from ocppnet.config import RelPath, Section, parse_section, read_toml
from ocppnet.errors import ConfigError
from ocppnet.nap.sites import Sites, load_sites
from ocppnet.security.keys import PrivateKey
from ocppnet.security.keystore import KeyStore, KeyStoreError

__all__ = ["NapSection", "NapSettings", "load_nap"]


class NapSection(Section):
    sites: RelPath = Field(description="site data file ([sites], docs/access-point.md)")
    signing_key: str = Field(min_length=1, description="name of the operator's key")
    keystore: RelPath | None = Field(
        None, description="key store directory (default: [security].keystore)")


@dataclass(frozen=True, slots=True)
class NapSettings:
    sites: Sites
    key: PrivateKey
    sites_file: Path


def load_nap(path: str | Path) -> NapSettings | None:
    """The ``[nap]`` table of ``path`` resolved into site data and signing key."""
    return nap_from(read_toml(path), path)


def nap_from(document: dict[str, Any], path: str | Path) -> NapSettings | None:
    """:func:`load_nap` of an already read ``document`` (the file ``path``)."""
    if "nap" not in document:
        return None
    base = Path(path).parent
    section = parse_section(NapSection, document["nap"], source=str(path), where="nap",
                            base=base)
    keystore = section.keystore
    if keystore is None:
        security = document.get("security")
        store = security.get("keystore") if isinstance(security, dict) else None
        if not isinstance(store, str):
            raise ConfigError(f"{path}: nap.keystore: missing (and no [security].keystore)")
        keystore = base / store
    try:
        key = KeyStore(keystore).key_pair(section.signing_key).private_key
    except KeyStoreError as exc:
        raise ConfigError(f"{path}: nap.signing_key: {exc}") from None
    return NapSettings(load_sites(section.sites), key, section.sites)
