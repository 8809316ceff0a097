"""docs/lock.md's worked example, executed as written (L2-L10 end to end on a factory-new lock)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "lock.md"


def test_worked_example_in_docs_runs() -> None:
    text = DOC.read_text()
    section = text.split("## Worked example", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1
    exec(compile(blocks[0], str(DOC), "exec"), {"__name__": "worked_example"})
