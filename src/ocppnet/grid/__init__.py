"""Grid operator (DSO, §14a EnWG): limits on a site's or a station's consumption over OCPP.

The pure core is :mod:`ocppnet.grid.lpc` (the EEBUS-LPC-like state machine, ``now`` passed
in), :mod:`ocppnet.grid.minimum` (the guaranteed minimum, BNetzA BK6-22-300) and
:mod:`ocppnet.grid.messages` (the OCPP payloads). The asyncio parts enforce limits where the
power flows (:mod:`ocppnet.grid.site`) and run the DSO service (:mod:`ocppnet.grid.service`).
See docs/grid-operator.md.
"""
