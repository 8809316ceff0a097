"""Camera media: RTSP ingest, fMP4 recording, retention, history, live fan-out, cloud tier (C5, C7, C10)."""
