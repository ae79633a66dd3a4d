"""The flow engine: declarative steps, typed inputs, persisted runs."""

from bot.engine.flow import CANCEL, STOP, Flow, FlowContext, Outbound, Step
from bot.engine.inputs import (
    DateTimeInput,
    FormInput,
    FreeText,
    InputKind,
    Invalid,
    MultiChoice,
    Number,
    Scale,
    SingleChoice,
    TimeZoneInput,
    YesNo,
)
from bot.engine.runner import EXPIRE, REMIND, Engine, choice_token, parse_token

__all__ = [
    "CANCEL",
    "EXPIRE",
    "REMIND",
    "STOP",
    "DateTimeInput",
    "Engine",
    "Flow",
    "FlowContext",
    "FormInput",
    "FreeText",
    "InputKind",
    "Invalid",
    "MultiChoice",
    "Number",
    "Outbound",
    "Scale",
    "SingleChoice",
    "Step",
    "TimeZoneInput",
    "YesNo",
    "choice_token",
    "parse_token",
]
