"""Applications on the overlay: one participant layer for the grid operator, the tariff
issuer, the web-payment gateway, the digital twin and every service to come.

A :class:`Participant` is a process with its own overlay id, a SecurityContext, one or more
overlay upstreams (priority and fail-over), handlers for what it answers, calls to any
destination id (signed per its policy) and an optional HTTP app on its own port. Its TOML
file has ``[participant]``, ``[security]`` and the application's own table
(:func:`load_participant_config`). See docs/architecture.md "Writing an application".
"""

from ocppnet.participant.config import (
    ParticipantFile,
    ParticipantSection,
    UpstreamSection,
    load_participant_config,
)
from ocppnet.participant.process import Participant
from ocppnet.participant.run import run_until_stopped

__all__ = [
    "Participant",
    "ParticipantFile",
    "ParticipantSection",
    "UpstreamSection",
    "load_participant_config",
    "run_until_stopped",
]
