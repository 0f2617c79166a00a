"""The CSMS's TOML file with its ``[api]`` table: ``[csms]`` goes to the CSMS's own reader,
``[api]`` (operator tokens, hashed) to :class:`ocppnet.api.ApiSection`, ``[metering]``
(calibration law; absent: off) to :class:`ocppnet.csms.signed_meter.MeteringSection`,
``[cluster]`` (scale-out front-end; absent: single process) to
:class:`ocppnet.cluster.config.ClusterSection`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocppnet.api import ApiSection
from ocppnet.cluster.config import ClusterSection
from ocppnet.config import parse_section, read_toml
from ocppnet.csms.config import CsmsConfig, parse_config
from ocppnet.csms.signed_meter import MeteringSection


@dataclass(frozen=True, slots=True)
class CsmsFile:
    csms: CsmsConfig
    api: ApiSection
    metering: MeteringSection | None = None
    cluster: ClusterSection | None = None
    document: dict[str, Any] = field(default_factory=dict)  # the whole file, as read


def load_csms_file(path: str | Path) -> CsmsFile:
    """Read ``path``; ConfigError names the file and the dotted key on any problem."""
    file = Path(path)
    raw = read_toml(file)
    document = dict(raw)
    document.pop("nap", None)  # access-point exports: ocppnet.csms.nap_config.load_nap
    api = parse_section(ApiSection, document.pop("api", None), source=str(file), where="api",
                        base=file.parent)
    metering_table = document.pop("metering", None)
    metering = None if metering_table is None else parse_section(
        MeteringSection, metering_table, source=str(file), where="metering", base=file.parent)
    cluster_table = document.pop("cluster", None)
    cluster = None if cluster_table is None else parse_section(
        ClusterSection, cluster_table, source=str(file), where="cluster", base=file.parent)
    return CsmsFile(parse_config(document, source=str(file), base=file.parent), api, metering,
                    cluster, raw)
