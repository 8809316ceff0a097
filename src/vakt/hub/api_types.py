"""Bounded input types shared by every router: ids, instants, days, names and sizes a request may carry.

A value outside these bounds is refused with 422 before a route runs, so it can never overflow a
database integer (SQLite and PostgreSQL keep ids in 32/64 bits) or a ``datetime`` (year 9999 + 1 day).
"""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import HTTPException, Path, Query, Request, status
from fastapi.requests import HTTPConnection
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

# Ids are SQL INTEGER primary keys: PostgreSQL's is 32-bit signed, the smaller of our two databases.
MAX_ID = 2**31 - 1
# Footage, logs and shares live between these instants; anything else is a typo or an attack.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


def _printable(value: str) -> str:
    """Refuse control characters (NUL, newlines, escapes): they break logs, screens and PostgreSQL."""
    for position, char in enumerate(value):
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError(
                f"must not contain control characters (found U+{ord(char):04X} at position {position})"
            )
    return value


# -- path and query parameters ---------------------------------------------------------------------
DeviceId = Annotated[int, Path(ge=1, le=MAX_ID, description="a device's id")]
NotificationId = Annotated[int, Path(ge=1, le=MAX_ID, description="a notification's id")]
CredentialId = Annotated[int, Path(ge=1, le=MAX_ID, description="a lock credential's id")]
ShareId = Annotated[int, Path(ge=1, le=MAX_ID, description="a share's id")]
SessionId = Annotated[int, Path(ge=1, le=MAX_ID, description="a sign-in session's id")]
SegmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="a recorded segment's id")]
EventId = Annotated[int, Path(ge=1, le=MAX_ID, description="a person event's id")]
BeforeId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="only items older than this id")]
# A file under the web app's folder: printable, bounded, never a NUL (the OS refuses those).
WebPath = Annotated[str, Path(max_length=256, pattern=r"^[^\x00-\x1f\x7f]*$")]

# -- values in bodies and queries ------------------------------------------------------------------
RowRef = Annotated[int, Field(ge=1, le=MAX_ID)]
Instant = Annotated[
    AwareDatetime,
    Field(ge=EARLIEST, le=LATEST, description="ISO 8601 with a time zone, between 2000 and 2100"),
]
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY, description="a calendar day between 2000 and 2099")]
# Empty is allowed where the hub picks a default name; a rename asks for min_length=1 itself.
DeviceName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(_printable)
]
# Where a device is installed; empty takes it out of any room.
RoomName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), AfterValidator(_printable)]
PersonName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(_printable),
]
Text = Annotated[str, AfterValidator(_printable)]


def printable(value: str) -> str:
    """The same check for values outside a model (a settings dict)."""
    return _printable(value)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


async def refuse_nul(connection: HTTPConnection) -> None:
    """No text the hub stores or looks up may hold a NUL: PostgreSQL refuses it (once a 500 anywhere)."""
    where = None
    if "\x00" in connection.url.path:
        where = "path"
    elif any(_has_nul(k) or _has_nul(v) for k, v in connection.query_params.multi_items()):
        where = "query"
    elif isinstance(connection, Request) and b"\\u0000" in await connection.body():
        try:
            if _has_nul(json.loads(await connection.body())):
                where = "body"
        except ValueError:
            pass  # not JSON: the route's own validation answers
    if where is not None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{where}: NUL characters (U+0000) are not allowed"
        )
