"""Alerts (A4, C8, C9, X2, X4): person detection per camera, notifications, push, active defense."""
