"""Clear error bodies: 422s say in one line which field is wrong and why, besides FastAPI's detail list."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def summarize(errors: list[dict[str, object]]) -> str:
    parts = []
    for error in errors[:5]:
        loc = error.get("loc", ())
        where = ".".join(str(p) for p in loc) if isinstance(loc, (list, tuple)) else str(loc)
        parts.append(f"{where}: {error.get('msg')}")
    return "; ".join(parts) or "invalid request"


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
