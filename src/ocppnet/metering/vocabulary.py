"""The closed value sets of OCMF revision 1.4.x (S.A.F.E. e.V.), table by table.

Each mapping gives the identifier on the wire and its meaning as the specification words it;
the parser reports values outside these sets as issues (they do not break a signature).
"""

from __future__ import annotations

__all__ = [
    "CHARGE_POINT_ID_TYPES",
    "CURRENT_TYPES",
    "ERROR_FLAGS",
    "IDENTIFICATION_FLAGS",
    "IDENTIFICATION_LEVELS",
    "IDENTIFICATION_TYPES",
    "LOSS_UNITS",
    "METER_STATUS",
    "PAGINATION_CONTEXTS",
    "READING_REASONS",
    "TIME_STATUS",
    "TRANSACTION_END",
    "UNITS",
    "VENDOR_PREFIXES",
]

PAGINATION_CONTEXTS = {"T": "transaction", "F": "fiscal"}

# Table 10: state / error of the meter (ST).
METER_STATUS = {
    "N": "NOT_PRESENT", "G": "OK", "T": "TIMEOUT", "D": "DISCONNECTED", "R": "NOT_FOUND",
    "M": "MANIPULATED", "X": "EXCHANGED", "I": "INCOMPATIBLE", "O": "OUT_OF_RANGE",
    "S": "SUBSTITUTE", "E": "OTHER_ERROR", "F": "READ_ERROR",
}

# Table 7, field TX: meter reading reason.
READING_REASONS = {
    "B": "begin of transaction", "C": "charging", "X": "exception, transaction continues",
    "E": "end of transaction", "L": "terminated locally", "R": "terminated remotely",
    "A": "aborted by error", "P": "terminated by power failure",
    "S": "suspended", "T": "tariff change",
}
TRANSACTION_END = frozenset("ELRAP")

# Table 7, field EF: quantities no longer usable for billing.
ERROR_FLAGS = {"E": "energy", "t": "time"}

# Table 19: time status (the letter after the time).
TIME_STATUS = {
    "U": "unknown, unsynchronized", "I": "informative (info clock)", "S": "synchronized",
    "R": "relative time accounting with a calibration-law accurate duration",
}

# Table 11: identification level (IL).
IDENTIFICATION_LEVELS = frozenset({
    "NONE", "HEARSAY", "TRUSTED", "VERIFIED", "CERTIFIED", "SECURE",
    "MISMATCH", "INVALID", "OUTDATED", "UNKNOWN",
})

# Tables 13-16: identification flags (IF).
IDENTIFICATION_FLAGS = frozenset({
    "RFID_NONE", "RFID_PLAIN", "RFID_RELATED", "RFID_PSK",
    "OCPP_NONE", "OCPP_RS", "OCPP_AUTH", "OCPP_RS_TLS", "OCPP_AUTH_TLS", "OCPP_CACHE",
    "OCPP_WHITELIST", "OCPP_CERTIFIED",
    "ISO15118_NONE", "ISO15118_PNC",
    "PLMN_NONE", "PLMN_RING", "PLMN_SMS",
})

# Table 17: identification type (IT).
IDENTIFICATION_TYPES = frozenset({
    "NONE", "DENIED", "UNDEFINED", "ISO14443", "ISO15693", "EMAID", "EVCCID", "EVCOID",
    "ISO7812", "CARD_TXN_NR", "CENTRAL", "CENTRAL_1", "CENTRAL_2", "LOCAL", "LOCAL_1",
    "LOCAL_2", "PHONE_NUMBER", "KEY_CODE",
})

# Table 18: charge point identification type (CT).
CHARGE_POINT_ID_TYPES = frozenset({"EVSEID", "CBIDC"})

# Table 20: units (RU); table 24: cable resistance units (LU).
UNITS = frozenset({"kWh", "Wh", "mOhm", "uOhm"})
LOSS_UNITS = frozenset({"mOhm", "uOhm"})

# Table 21: current types (RT).
CURRENT_TYPES = frozenset({"AC", "DC"})

# Extension points: top-level keys of the payload (and signature) reserved for vendors.
VENDOR_PREFIXES = frozenset("UVWXYZ")
