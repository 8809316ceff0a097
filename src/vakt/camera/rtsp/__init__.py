"""A standard RTSP 1.0 server (RFC 2326) streaming H.264 (RFC 6184) and AAC (RFC 3640) over RTP."""
