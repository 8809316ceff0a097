"""The command line lists every area's command without importing the areas, and runs each one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vakt.cli import COMMANDS, load_command

HEAVY = ("vakt.hub.app", "av", "onnxruntime", "cv2", "sqlalchemy")


def test_help_lists_every_command_without_loading_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from vakt.cli import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "print(result.output)\n"
        f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for name in [*COMMANDS, "version"]:
        assert f"  {name} " in out
    assert "LOADED []" in out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_loads_with_its_own_name(name: str) -> None:
    assert load_command(name, COMMANDS[name]).name == name


def test_unknown_command_is_a_clear_error() -> None:
    from typer.testing import CliRunner

    from vakt.cli import app

    result = CliRunner().invoke(app, ["bogus"])
    assert result.exit_code != 0 and "No such command 'bogus'" in result.output
