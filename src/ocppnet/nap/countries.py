"""ISO 3166-1 alpha-2 to alpha-3 codes of the countries where AFIR applies (EU and EEA).

DATEX II names countries with two letters, OCPI's ``country`` with three.
"""

from __future__ import annotations

ALPHA3: dict[str, str] = {
    "AT": "AUT", "BE": "BEL", "BG": "BGR", "HR": "HRV", "CY": "CYP", "CZ": "CZE",
    "DK": "DNK", "EE": "EST", "FI": "FIN", "FR": "FRA", "DE": "DEU", "GR": "GRC",
    "HU": "HUN", "IE": "IRL", "IT": "ITA", "LV": "LVA", "LT": "LTU", "LU": "LUX",
    "MT": "MLT", "NL": "NLD", "PL": "POL", "PT": "PRT", "RO": "ROU", "SK": "SVK",
    "SI": "SVN", "ES": "ESP", "SE": "SWE",
    # EEA
    "IS": "ISL", "LI": "LIE", "NO": "NOR",
}
