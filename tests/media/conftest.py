"""Hub test fixtures shared with the camera-area tests: the private Mosquitto and both databases."""

from tests.hub.conftest import any_db_url, mosquitto, postgres_url  # noqa: F401  (re-exported fixtures)
