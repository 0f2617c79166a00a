"""``[tariff]``: which key of the issuer's key store signs its tariffs.

```toml
[tariff]
signing_key = "emp"      # <keystore>/emp.key.pem (the [security] key store)
issuer_name = "EMP-1"    # the signature's name, shown to whoever checks it
```
"""

from __future__ import annotations

from pydantic import Field

from ocppnet.config import Section

__all__ = ["TariffIssuerSection"]


class TariffIssuerSection(Section):
    """The issuer's tariff-signing key (a name in the ``[security]`` key store)."""

    signing_key: str = Field(description="name of the private key in the key store")
    issuer_name: str | None = Field(None, description="the signature's name (who issued it)")
