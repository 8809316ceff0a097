"""``python -m vakt.gateway``: the same as ``vakt gateway``, without loading the other areas' commands."""

import typer

from vakt.gateway.cli import gateway_command

typer.run(gateway_command)
