"""Snapshot: decode the current GOP of the main stream up to the newest frame and encode it as JPEG."""

from __future__ import annotations

import av
import cv2
import numpy as np

from vakt.camera.media import START_CODE, MediaUnit, TrackKind, VideoTrack


class SnapshotError(RuntimeError):
    pass


def snapshot_jpeg(
    video: VideoTrack, gop: list[MediaUnit], flip: bool = False, osd: str | None = None, quality: int = 85
) -> bytes:
    """JPEG of the newest decodable frame; ``flip`` turns it upside down (Flip Image, C6), ``osd`` is
    written in its bottom-left corner (the on-screen time, C6)."""
    units = [u for u in gop if u.kind is TrackKind.VIDEO]
    if not units:
        raise SnapshotError("no video yet")
    codec = av.CodecContext.create("h264", "r")
    codec.extradata = video.annexb_extradata
    last = None
    for unit in units:
        packet = av.Packet(b"".join(START_CODE + nal for nal in unit.payloads))
        for frame in codec.decode(packet):
            last = frame
    for frame in codec.decode(None):
        last = frame
    if last is None:
        raise SnapshotError("no frame could be decoded")
    image: np.ndarray = last.to_ndarray(format="bgr24")
    if flip:
        image = np.ascontiguousarray(image[::-1, ::-1])
    if osd:
        origin = (8, image.shape[0] - 10)
        cv2.putText(image, osd, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(image, osd, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise SnapshotError("JPEG encoding failed")
    return bytes(encoded.tobytes())
