"""Act on stations (scope ``operator``): ``POST /stations/{id}/call`` sends any OCPP call of
the station's version, the helper routes build the common ones (:mod:`.commands`).

Every call goes through :class:`StationCaller`, which gives the documented answers: 200 with
the station's response payload; 404 station not connected; 422 payload invalid for the
station's version (the field named); 504 no answer in time; 502 CALLERROR from the station
(its errorCode in the body), link lost mid-call, or an invalid response.
"""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any

from fastapi import APIRouter

from ocppnet.api import ApiError, OperatorGrant
from ocppnet.csms.api import bodies, commands
from ocppnet.csms.api.commands import Command
from ocppnet.csms.app import CsmsApp
from ocppnet.errors import (
    CallErrorReceived,
    CallTimeout,
    ConnectionClosed,
    OcppNetError,
    UnknownClient,
)
from ocppnet.validation import validate

log = logging.getLogger("ocppnet.csms.api")

Payload = dict[str, Any]


def invalid_payload_detail(action: str, version: str, description: str) -> str:
    """The validator's ``data.x.y: problem`` as ``payload.x.y: problem``."""
    if description.startswith("data"):
        description = "payload" + description[len("data"):]
    return f"{action} is not valid for OCPP {version}: {description}"


def failure_for(station_id: str, action: str, exc: OcppNetError,
                timeout: float | None) -> ApiError:
    """The HTTP answer for a call that did not return a response. Pure."""
    if isinstance(exc, UnknownClient):
        return ApiError(404, "unknown_station", f"station {station_id} is not reachable: "
                        f"{exc.description or 'no route'}")
    if isinstance(exc, CallErrorReceived):
        return ApiError(
            502, "call_error",
            f"station {station_id} answered {action} with CALLERROR {exc.code}"
            + (f": {exc.description}" if exc.description else ""),
            extra={"errorCode": exc.code, "errorDescription": exc.description,
                   "errorDetails": exc.details})
    if isinstance(exc, CallTimeout):
        wait = f" within {timeout:g}s" if timeout is not None else ""
        return ApiError(504, "timeout", f"station {station_id} did not answer {action}{wait}")
    if isinstance(exc, ConnectionClosed):
        return ApiError(502, "connection_closed",
                        f"the link to station {station_id} closed during {action}")
    return ApiError(502, "invalid_response",
                    f"station {station_id} answered {action} with an invalid response: "
                    f"{exc.description or exc}", extra={"errorCode": exc.code})


class StationCaller:
    """Validates a command for the station's version, sends it, maps the outcome."""

    def __init__(self, app: CsmsApp) -> None:
        self.app = app
        self._remote_start_ids = itertools.count(int(time.time()) % 1_000_000_000)

    def next_remote_start_id(self) -> int:
        return next(self._remote_start_ids)

    async def version(self, station_id: str) -> str:
        """The station's OCPP version, wherever it is connected (another front-end of a
        scale-out CSMS too); 404 when it is not connected."""
        try:
            return await self.app.station_version(station_id)
        except UnknownClient as exc:
            raise ApiError(404, "unknown_station",
                           exc.description or f"station {station_id} is not connected") from None

    async def send(self, station_id: str, command: Command, *, timeout: float | None,  # noqa: ASYNC109
                   by: str) -> Payload:
        version = await self.version(station_id)
        failure = validate(version, command.action, "request", command.payload)
        if failure is not None:
            raise ApiError(422, "invalid_payload",
                           invalid_payload_detail(command.action, version, failure.description),
                           extra={"errorCode": failure.error_code})
        try:
            response = await self.app.call(station_id, command.action, command.payload,
                                           timeout=timeout)
        except OcppNetError as exc:
            error = failure_for(station_id, command.action, exc, timeout)
            log.info("event=api_call station=%s action=%s by=%s status=%d error=%s",
                     station_id, command.action, by, error.status, error.error)
            raise error from None
        log.info("event=api_call station=%s action=%s by=%s status=200",
                 station_id, command.action, by)
        return response


def call_router(app: CsmsApp) -> APIRouter:
    router = APIRouter(tags=["act"])
    caller = StationCaller(app)

    @router.post("/stations/{station_id}/call",
                 summary="send any OCPP call of the station's version",
                 responses={404: {"description": "station not connected"},
                            422: {"description": "payload invalid for the station's version"},
                            502: {"description": "CALLERROR from the station (errorCode)"},
                            504: {"description": "no answer within the timeout"}})
    async def call(station_id: str, body: bodies.CallBody, grant: OperatorGrant) -> Payload:
        return await caller.send(station_id, Command(body.action, body.payload),
                                 timeout=body.timeout, by=grant.name)

    @router.post("/stations/{station_id}/remote-start",
                 summary="RequestStartTransaction (1.6: RemoteStartTransaction)")
    async def remote_start(station_id: str, body: bodies.RemoteStartBody,
                           grant: OperatorGrant) -> Payload:
        command = commands.remote_start(
            await caller.version(station_id), body.idToken, evse_id=body.evseId,
            remote_start_id=caller.next_remote_start_id(),
            charging_profile=body.chargingProfile, token_type=body.tokenType)
        return await caller.send(station_id, command, timeout=body.timeout, by=grant.name)

    @router.post("/stations/{station_id}/remote-stop",
                 summary="RequestStopTransaction (1.6: RemoteStopTransaction)")
    async def remote_stop(station_id: str, body: bodies.RemoteStopBody,
                          grant: OperatorGrant) -> Payload:
        command = commands.remote_stop(await caller.version(station_id), body.transactionId)
        return await caller.send(station_id, command, timeout=body.timeout, by=grant.name)

    @router.post("/stations/{station_id}/reset", summary="Reset (1.6: Hard / Soft)")
    async def reset(station_id: str, body: bodies.ResetBody, grant: OperatorGrant) -> Payload:
        command = commands.reset(await caller.version(station_id), body.type, body.evseId)
        return await caller.send(station_id, command, timeout=body.timeout, by=grant.name)

    @router.post("/stations/{station_id}/charging-profile", summary="SetChargingProfile")
    async def charging_profile(station_id: str, body: bodies.ChargingProfileBody,
                               grant: OperatorGrant) -> Payload:
        command = commands.set_charging_profile(await caller.version(station_id), body.evseId,
                                                body.chargingProfile)
        return await caller.send(station_id, command, timeout=body.timeout, by=grant.name)

    @router.post("/stations/{station_id}/charging-limit",
                 summary="SetChargingProfile with one always-on limit (W or A)")
    async def charging_limit(station_id: str, body: bodies.ChargingLimitBody,
                             grant: OperatorGrant) -> Payload:
        version = await caller.version(station_id)
        profile = commands.limit_profile(version, profile_id=body.profileId,
                                         evse_id=body.evseId, limit=body.limit, unit=body.unit,
                                         stack_level=body.stackLevel)
        command = commands.set_charging_profile(version, body.evseId, profile)
        return await caller.send(station_id, command, timeout=body.timeout, by=grant.name)

    @router.post("/stations/{station_id}/clear-charging-profile",
                 summary="ClearChargingProfile")
    async def clear_charging_profile(station_id: str, body: bodies.ClearChargingProfileBody,
                                     grant: OperatorGrant) -> Payload:
        command = commands.clear_charging_profile(
            await caller.version(station_id), profile_id=body.chargingProfileId,
            evse_id=body.evseId, purpose=body.chargingProfilePurpose,
            stack_level=body.stackLevel)
        return await caller.send(station_id, command, timeout=body.timeout, by=grant.name)

    @router.post("/stations/{station_id}/get-variables",
                 summary="GetVariables (1.6: GetConfiguration)")
    async def get_variables(station_id: str, body: bodies.GetVariablesBody,
                            grant: OperatorGrant) -> Payload:
        command = commands.get_variables(await caller.version(station_id),
                                         [(v.component, v.variable) for v in body.variables])
        return await caller.send(station_id, command, timeout=body.timeout, by=grant.name)

    @router.post("/stations/{station_id}/set-variables",
                 summary="SetVariables (1.6: one ChangeConfiguration per key)")
    async def set_variables(station_id: str, body: bodies.SetVariablesBody,
                            grant: OperatorGrant) -> Payload:
        version = await caller.version(station_id)
        values = [(v.component, v.variable, v.value) for v in body.variables]
        results = [await caller.send(station_id, c, timeout=body.timeout, by=grant.name)
                   for c in commands.set_variables(version, values)]
        if version != "1.6":
            return results[0]
        return {"results": [{"key": v.variable, **r} for v, r in zip(body.variables, results,
                                                                     strict=True)]}

    @router.post("/stations/{station_id}/trigger-message", summary="TriggerMessage")
    async def trigger_message(station_id: str, body: bodies.TriggerMessageBody,
                              grant: OperatorGrant) -> Payload:
        command = commands.trigger_message(await caller.version(station_id), body.requestedMessage,
                                           body.evseId)
        return await caller.send(station_id, command, timeout=body.timeout, by=grant.name)

    @router.post("/stations/{station_id}/change-availability", summary="ChangeAvailability")
    async def change_availability(station_id: str, body: bodies.ChangeAvailabilityBody,
                                  grant: OperatorGrant) -> Payload:
        command = commands.change_availability(await caller.version(station_id), body.operative,
                                               body.evseId, body.connectorId)
        return await caller.send(station_id, command, timeout=body.timeout, by=grant.name)

    @router.post("/stations/{station_id}/unlock-connector", summary="UnlockConnector")
    async def unlock_connector(station_id: str, body: bodies.UnlockConnectorBody,
                               grant: OperatorGrant) -> Payload:
        command = commands.unlock_connector(await caller.version(station_id), body.evseId,
                                            body.connectorId)
        return await caller.send(station_id, command, timeout=body.timeout, by=grant.name)

    return router
