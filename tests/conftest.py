"""Shared test fixtures: where the shared assets are."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO.parent / "shared" / "assets"
# The benchmarks' smoke tests load bench/ scripts, which import their siblings as a script would.
sys.path.insert(0, str(REPO / "bench"))


@pytest.fixture(scope="session")
def assets() -> Path:
    if not ASSETS.is_dir():
        pytest.skip(f"shared assets not found at {ASSETS}")
    return ASSETS


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last: Playwright's sync API keeps an event loop running in the main
    thread while its session fixture lives, and no asyncio test may run after it has started."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
