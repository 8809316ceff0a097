"""The ``vakt`` command line.

Each area's command lives in its own module and is imported only when that command runs, so
``vakt --help`` and ``vakt lock`` do not pay for loading the hub, PyAV and ONNX Runtime. An area
registers its command with one line in ``COMMANDS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

import typer
from typer import _click as click  # the click that Typer (>= 0.29) carries and its TyperGroup is built on
from typer.core import TyperGroup

from vakt import __version__


@dataclass(frozen=True, slots=True)
class LazyCommand:
    module: str
    attribute: str  # a command function, or a typer.Typer for a group of commands
    summary: str  # shown by ``vakt --help`` without importing the module


COMMANDS: dict[str, LazyCommand] = {
    "demo": LazyCommand("vakt.demo", "demo_command", "Run the whole home on embedded defaults."),
    "hub": LazyCommand("vakt.hub.cli", "hub_command", "Run the hub against a configured broker and DB."),
    "lock": LazyCommand("vakt.lock.panel_cli", "lock_command", "Use the lock firmware at a terminal."),
    "gateway": LazyCommand("vakt.gateway.cli", "gateway_command", "Run one gateway with its paired lock."),
    "camera": LazyCommand("vakt.camera.cli", "camera", "Run one emulated RTSP camera."),
    "analyze": LazyCommand("vakt.detect.analyze", "analyze_command", "Find people in a video file."),
    "models": LazyCommand("vakt.detect.models", "models_app", "Person detection models."),
}


def load_command(name: str, lazy: LazyCommand) -> click.Command:
    target = getattr(import_module(lazy.module), lazy.attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer()
    single.command(name)(target)
    return typer.main.get_command(single)


class LazyGroup(TyperGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = COMMANDS.get(cmd_name)
        return load_command(cmd_name, lazy) if lazy else super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, lazy.summary) for name, lazy in COMMANDS.items()]
        rows += [(name, cmd.get_short_help_str()) for name, cmd in self.commands.items()]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


app = typer.Typer(
    name="vakt",
    cls=LazyGroup,
    help="vakt: self-hosted home security (hub, web app, lock/gateway/camera emulators).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@app.callback()
def main() -> None:
    """vakt: self-hosted home security (hub, web app, lock/gateway/camera emulators)."""


@app.command()
def version() -> None:
    """Print the vakt version."""
    typer.echo(__version__)
