"""The ``vakt`` command line. Each area registers its commands here with one line."""

from __future__ import annotations

import typer

from vakt import __version__

app = typer.Typer(
    name="vakt",
    help="vakt: self-hosted home security (hub, web app, lock/gateway/camera emulators).",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def version() -> None:
    """Print the vakt version."""
    typer.echo(__version__)


# Areas add their commands below, one import + one registration each.

from vakt.detect.analyze import analyze_command  # noqa: E402
from vakt.detect.models import models_app  # noqa: E402

app.command("analyze")(analyze_command)
app.add_typer(models_app, name="models")

from vakt.camera.cli import camera as camera_command  # noqa: E402

app.command("camera")(camera_command)

from vakt.lock.panel_cli import lock_command  # noqa: E402

app.command("lock")(lock_command)

from vakt.gateway.cli import gateway_command  # noqa: E402

app.command("gateway")(gateway_command)

from vakt.demo import demo_command  # noqa: E402
from vakt.hub.cli import hub_command  # noqa: E402

app.command("demo")(demo_command)
app.command("hub")(hub_command)
