"""One error hierarchy for expected business errors, rendered by one handler."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OtklikError(Exception):
    """An expected error with a message a person can act on."""

    status_code: int = 400

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


class NotFound(OtklikError):
    """The object does not exist or is outside the caller's scope."""

    status_code = 404


class Forbidden(OtklikError):
    """The caller may not do this."""

    status_code = 403


class NotAuthenticated(OtklikError):
    """No valid session or token."""

    status_code = 401


class Conflict(OtklikError):
    """The object changed or already exists."""

    status_code = 409


class InvalidInput(OtklikError):
    """The input is wrong in a way the caller can fix."""

    status_code = 400


class ConfigurationError(OtklikError):
    """A setting is wrong; start-up stops with one line naming it."""

    status_code = 500


class ErrorBody(BaseModel):
    """What every 4xx of the API answers: a ``detail`` a person can act on."""

    detail: str = Field(description="what is wrong and what to do about it")


class FieldProblem(BaseModel):
    """One field of a malformed request and what is wrong with it."""

    field: str = Field(description="where: body.text, query.limit, path.case_id …")
    problem: str


class ValidationErrorBody(ErrorBody):
    """A 422: the request's shape is wrong; each field's problem is listed."""

    errors: list[FieldProblem]
