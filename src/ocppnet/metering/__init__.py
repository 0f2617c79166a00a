"""OCMF (Open Charge Metering Format, S.A.F.E. e.V., revision 1.4.x): pure, no I/O.

Build and parse signed meter records, sign them with a meter key, verify them over their
exact bytes, read and write the transparency software's XML files, and check a
transaction's records as a whole. See docs/calibration-law.md.
"""

from ocppnet.metering.algorithms import (
    DEFAULT_ALGORITHM,
    SIGNATURE_ALGORITHMS,
    MeterKey,
    MeterPublicKey,
    parse_public_key,
)
from ocppnet.metering.document import (
    CheckedRecord,
    DocumentReport,
    split_records,
    verify_document,
)
from ocppnet.metering.errors import OcmfError
from ocppnet.metering.obis import Obis, parse_obis
from ocppnet.metering.payload import LossCompensation, Payload, Reading
from ocppnet.metering.record import (
    OcmfRecord,
    SignatureSection,
    Verdict,
    parse_record,
    sign_payload,
    verify_record,
)
from ocppnet.metering.times import OcmfTime, format_time, parse_time
from ocppnet.metering.transaction import (
    SignedReading,
    TransactionCheck,
    check_transaction,
    energy_wh,
)
from ocppnet.metering.transparency import (
    TransparencyEntry,
    read_transparency,
    write_transparency,
)

__all__ = [
    "DEFAULT_ALGORITHM",
    "SIGNATURE_ALGORITHMS",
    "CheckedRecord",
    "DocumentReport",
    "LossCompensation",
    "MeterKey",
    "MeterPublicKey",
    "Obis",
    "OcmfError",
    "OcmfRecord",
    "OcmfTime",
    "Payload",
    "Reading",
    "SignatureSection",
    "SignedReading",
    "TransactionCheck",
    "TransparencyEntry",
    "Verdict",
    "check_transaction",
    "energy_wh",
    "format_time",
    "parse_obis",
    "parse_public_key",
    "parse_record",
    "parse_time",
    "read_transparency",
    "sign_payload",
    "split_records",
    "verify_document",
    "verify_record",
    "write_transparency",
]
