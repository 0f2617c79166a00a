"""Request bodies of the CSMS operator API (pydantic models: FastAPI validates them and the
OpenAPI page shows them). Field names follow OCPP's camelCase, as the payloads do."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_TIMEOUT_S = 300.0


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout: float | None = Field(
        default=None, gt=0, le=MAX_TIMEOUT_S,
        description="seconds to wait for the station's answer (default: the CSMS's)")


class CallBody(Body):
    action: str = Field(min_length=1, description="any OCPP action of the station's version",
                        examples=["Reset"])
    payload: dict[str, Any] = Field(default_factory=dict, examples=[{"type": "Immediate"}])


class RemoteStartBody(Body):
    idToken: str = Field(min_length=1, max_length=36)
    evseId: int | None = Field(default=None, ge=0, description="connector in OCPP 1.6")
    chargingProfile: dict[str, Any] | None = None
    tokenType: str = "Central"


class RemoteStopBody(Body):
    transactionId: str = Field(min_length=1)


class ResetBody(Body):
    type: Literal["Immediate", "OnIdle"] = Field(
        default="Immediate", description="1.6: Immediate = Hard, OnIdle = Soft")
    evseId: int | None = Field(default=None, ge=0, description="2.x only")


class ChargingProfileBody(Body):
    evseId: int = Field(ge=0, description="0 = the whole station (connector in 1.6)")
    chargingProfile: dict[str, Any] = Field(description="in the station's version's shape")


class ChargingLimitBody(Body):
    limit: float = Field(ge=0, description="the limit, in unit")
    unit: Literal["W", "A"] = "W"
    evseId: int = Field(default=0, ge=0,
                        description="0: the station maximum; n: default limit of EVSE n")
    profileId: int = Field(default=900_001, ge=1, description="replaced on every change")
    stackLevel: int = Field(default=1, ge=0)


class ClearChargingProfileBody(Body):
    chargingProfileId: int | None = None
    evseId: int | None = Field(default=None, ge=0)
    chargingProfilePurpose: str | None = None
    stackLevel: int | None = Field(default=None, ge=0)


class VariableRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    component: str = Field(default="", description="ignored in 1.6 (configuration keys)")
    variable: str = Field(min_length=1)


class GetVariablesBody(Body):
    variables: list[VariableRef] = Field(min_length=1)


class VariableValue(VariableRef):
    value: str


class SetVariablesBody(Body):
    variables: list[VariableValue] = Field(min_length=1)


class TriggerMessageBody(Body):
    requestedMessage: str = Field(min_length=1, examples=["StatusNotification"])
    evseId: int | None = Field(default=None, ge=0)


class ChangeAvailabilityBody(Body):
    operative: bool
    evseId: int | None = Field(default=None, ge=0, description="none: the whole station")
    connectorId: int | None = Field(default=None, ge=0)


class UnlockConnectorBody(Body):
    evseId: int = Field(default=1, ge=0)
    connectorId: int = Field(default=1, ge=0)
