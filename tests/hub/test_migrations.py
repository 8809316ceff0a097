"""Alembic: exactly one head, and `upgrade head` builds exactly the schema the models declare (every area)."""

from __future__ import annotations

import importlib
import pkgutil

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

import vakt.hub.models
from vakt.hub import migrate
from vakt.hub.db import Base, make_engine


def test_single_head() -> None:
    heads = migrate.heads()
    assert len(heads) == 1, f"several Alembic heads {heads}: fix down_revision so the chain is linear"


async def test_migrations_match_models(any_db_url: str) -> None:
    for module in pkgutil.iter_modules(vakt.hub.models.__path__):
        importlib.import_module(f"vakt.hub.models.{module.name}")
    engine = make_engine(any_db_url)
    await migrate.upgrade(engine)

    def diff(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    await engine.dispose()
    assert not differences, f"models and migrations differ (add a revision): {differences}"
