"""One error body for every refusal, and an OpenAPI document that declares them and how to sign in.

Every 4xx/5xx the hub sends is ``{"message": "<one line a person can read>", "detail": ...}``:
``detail`` is the same line, or for 422 the list of fields that are wrong and why.
"""

from __future__ import annotations

import http
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException


class FieldError(BaseModel):
    """One wrong field of a request (FastAPI/pydantic's validation error, without the echoed input)."""

    loc: list[str | int] = Field(description="where: body/query/path and the field's name")
    msg: str = Field(description="what is wrong with it")
    type: str = Field(description="pydantic's error type, e.g. missing, less_than_equal")


class ErrorOut(BaseModel):
    """The body of every error response."""

    message: str = Field(description="what went wrong, in one line")
    detail: str | list[FieldError] = Field(description="the same line, or for 422 each wrong field")


# Answers the shared layers can give on any route of a kind; routes add their own with ``errors()``.
ANY_ERRORS = (400,)  # a request the HTTP server cannot parse (say, control characters in a header)
AUTH_ERRORS = (401, 403)
BODY_ERRORS = (413, 422)
PARAMETER_ERRORS = (422,)
PATH_ERRORS = (404,)


def summarize(errors: list[dict[str, object]]) -> str:
    parts = []
    for error in errors[:5]:
        loc = error.get("loc", ())
        where = ".".join(str(p) for p in loc) if isinstance(loc, (list, tuple)) else str(loc)
        parts.append(f"{where}: {error.get('msg')}")
    return "; ".join(parts) or "invalid request"


def error_response(status_code: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The one error body, for handlers and middleware that answer without raising."""
    return JSONResponse(
        status_code=status_code,
        content={"message": message, "detail": message},
        headers=dict(headers or {}),
    )


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=errors(409, 504)`` on a route: the refusals of its own it may answer with."""
    return {code: {"description": http.HTTPStatus(code).phrase, "model": ErrorOut} for code in codes}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [dict(e) for e in exc.errors()]
        for error in errors:
            error.pop("ctx", None)  # may hold exception objects that do not serialise
            error.pop("input", None)  # may echo passwords back
        return JSONResponse(
            status_code=422, content=jsonable_encoder({"message": summarize(errors), "detail": errors})
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else http.HTTPStatus(exc.status_code).phrase
        if exc.status_code in (204, 304):  # no body allowed
            return JSONResponse(None, status_code=exc.status_code, headers=exc.headers)
        return error_response(exc.status_code, message, exc.headers)

    app.openapi = _openapi_with_errors(app)  # type: ignore[method-assign]


# -- the OpenAPI document --------------------------------------------------------------------------
def _openapi_with_errors(app: FastAPI) -> Callable[[], dict[str, Any]]:
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        schema = plain()  # FastAPI caches it (and rebuilds when routes change)
        if not schema.get("x-errors-documented"):
            document_errors(schema)
            schema["x-errors-documented"] = True
        return schema

    return openapi


def _operation_errors(path: str, operation: dict[str, Any]) -> set[int]:
    codes: set[int] = set(ANY_ERRORS)
    if operation.get("security"):
        codes.update(AUTH_ERRORS)
    if "{" in path:
        codes.update(PATH_ERRORS)
    if "requestBody" in operation:
        codes.update(BODY_ERRORS)
    if operation.get("parameters"):
        codes.update(PARAMETER_ERRORS)
    return codes


def document_errors(schema: dict[str, Any]) -> None:
    """Declare, on every operation, each error the shared layers and the route may answer with."""
    components = schema.setdefault("components", {})
    definitions = TypeAdapter(ErrorOut).json_schema(ref_template="#/components/schemas/{model}")
    schemas = components.setdefault("schemas", {})
    schemas.update(definitions.pop("$defs", {}))
    schemas["ErrorOut"] = definitions
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            for code in _operation_errors(path, operation):
                responses.setdefault(str(code), {"description": http.HTTPStatus(code).phrase})
            for code, response in responses.items():
                if code[0] in "45":
                    response["content"] = error_body
