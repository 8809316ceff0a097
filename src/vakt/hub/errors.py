"""One error body for every refusal, and an OpenAPI document that declares them and how to sign in.

Every 4xx/5xx the hub sends is ``{"message": "<one line a person can read>", "detail": ...}``:
``detail`` is the same line, or for 422 the list of fields that are wrong and why.
"""

from __future__ import annotations

import http
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException

from vakt.hub.auth import COOKIE_NAME, current_auth


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
AUTH_ERRORS = (401, 403)
BODY_ERRORS = (413, 422)
PARAMETER_ERRORS = (422,)
PATH_ERRORS = (404,)
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "the token from POST /api/auth/login"},
    "cookie": {"type": "apiKey", "in": "cookie", "name": COOKIE_NAME, "description": "set by sign-in"},
}


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
def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def _needs_sign_in(route: APIRoute) -> bool:
    return any(d.call is current_auth for d in _dependencies(route.dependant))


def _has_parameters(dependant: Dependant) -> bool:
    return bool(
        dependant.path_params or dependant.query_params or dependant.header_params or dependant.cookie_params
    ) or any(_has_parameters(d) for d in dependant.dependencies)


def _route_errors(route: APIRoute) -> set[int]:
    codes: set[int] = set()
    if _needs_sign_in(route):
        codes.update(AUTH_ERRORS)
    if "{" in route.path_format:
        codes.update(PATH_ERRORS)
    if route.body_field is not None:
        codes.update(BODY_ERRORS)
    if _has_parameters(route.dependant):
        codes.update(PARAMETER_ERRORS)
    return codes


def _openapi_with_errors(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            document_errors(schema, [r for r in app.routes if isinstance(r, APIRoute)])
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def document_errors(schema: dict[str, Any], routes: list[APIRoute]) -> None:
    """Declare the security schemes, each route's sign-in and every error it may answer with."""
    components = schema.setdefault("components", {})
    definitions = TypeAdapter(ErrorOut).json_schema(ref_template="#/components/schemas/{model}")
    schemas = components.setdefault("schemas", {})
    schemas.update(definitions.pop("$defs", {}))
    schemas["ErrorOut"] = definitions
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = SECURITY_SCHEMES
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for route in routes:
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = schema.get("paths", {}).get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code in _route_errors(route):
                responses.setdefault(str(code), {"description": http.HTTPStatus(code).phrase})
            for code, response in responses.items():
                if code[0] in "45":
                    response["content"] = error_body
            if _needs_sign_in(route):
                operation["security"] = [{"bearer": []}, {"cookie": []}]
