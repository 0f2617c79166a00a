"""Data for national access points (EU AFIR Art. 20): static and dynamic charge-point data as
DATEX II v3 and OCPI 2.2.1, statistics without personal data, detached JWS signatures.

Pure: everything here takes values (site data, store records, ``now``) and returns documents
or verdicts; reading the CSMS store and serving HTTP live in :mod:`ocppnet.csms.nap_source`
and :mod:`ocppnet.csms.nap_api`.
"""
