"""Benchmarks write their figures between their own README markers and touch nothing else."""

from __future__ import annotations

from pathlib import Path

from readme_block import write_block


def test_block_replaced_between_its_markers_only(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    b_block = "<!-- bench:b -->\nold b\n<!-- /bench:b -->\n"
    readme.write_text("top\n<!-- bench:a -->\nold a\n<!-- /bench:a -->\n" + b_block)
    assert write_block("a", "| new | a |", readme)
    assert readme.read_text() == "top\n<!-- bench:a -->\n| new | a |\n<!-- /bench:a -->\n" + b_block


def test_missing_markers_leave_the_readme_untouched(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n")
    assert not write_block("a", "figures", readme)
    assert readme.read_text() == "no markers here\n"
