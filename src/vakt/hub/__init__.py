"""The vakt hub: FastAPI app, accounts, devices, sharing, MQTT ingest and lock management."""
