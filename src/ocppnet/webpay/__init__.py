"""Ad hoc payment by dynamic QR code (OCPP 2.1 C25), pure core.

``totp``: the C25 time-based one-time password; ``url_template``: expanding and matching
the QR URL template; ``channel``: the end-to-end encrypted channel phone <-> station
(ECDH P-256, HKDF-SHA256, AES-GCM with a counter per direction). Nothing here does I/O or
reads a clock: ``now`` is passed in.
"""
