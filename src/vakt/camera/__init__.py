"""Emulator of the outdoor RTSP security camera (spec/camera.md): RTSP/H.264, snapshot, MQTT control."""
