"""The S3 tier's resume cursors in the database (C10.1): one row per multipart upload in flight."""

from __future__ import annotations

import json

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vakt.hub.db import utcnow
from vakt.hub.models.cameras import CloudUpload
from vakt.media.s3 import UploadCursor


class DbCursors:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def load(self, key: str) -> UploadCursor | None:
        async with self.sessionmaker() as session:
            row = await session.get(CloudUpload, key)
            if row is None:
                return None
            parts = [(int(n), str(e)) for n, e in json.loads(row.parts)]
            return UploadCursor(row.upload_id, row.fingerprint, row.size, parts)

    async def save(self, key: str, cursor: UploadCursor) -> None:
        async with self.sessionmaker() as session:
            row = await session.get(CloudUpload, key)
            if row is None:
                row = CloudUpload(key=key)
                session.add(row)
            row.upload_id = cursor.upload_id
            row.fingerprint = cursor.fingerprint
            row.size = cursor.size
            row.parts = json.dumps(cursor.parts)
            row.updated_at = utcnow()
            await session.commit()

    async def clear(self, key: str) -> None:
        async with self.sessionmaker() as session:
            await session.execute(delete(CloudUpload).where(CloudUpload.key == key))
            await session.commit()
