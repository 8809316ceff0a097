"""The hub tests' private Mosquitto fixture, shared with the camera-area tests that run the real hub."""

from tests.hub.conftest import mosquitto  # noqa: F401  (re-exported fixture)
