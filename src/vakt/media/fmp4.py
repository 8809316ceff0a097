"""Fragmented-MP4 helpers: top-level box splitting and the MSE codec string."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Box:
    kind: str
    offset: int
    size: int


def iter_boxes(data: bytes | bytearray | memoryview, start: int = 0) -> Iterator[Box]:
    """Yield the complete top-level boxes of `data`; stops at the first truncated one."""
    pos = start
    end = len(data)
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            if pos + 16 > end:
                return
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = end - pos
        if size < 8 or pos + size > end:
            return
        yield Box(kind.decode("latin-1"), pos, size)
        pos += size


def scan_file(path: Path) -> tuple[int, int]:
    """(init_size, playable_size) of an fMP4 file: ftyp+moov, and the end of its last whole moof+mdat."""
    data = path.read_bytes()
    init_size = 0
    playable = 0
    pending_moof = False
    for box in iter_boxes(data):
        if box.kind in ("ftyp", "moov"):
            init_size = box.offset + box.size
            playable = init_size
        elif box.kind == "moof":
            pending_moof = True
        elif box.kind == "mdat" and pending_moof:
            playable = box.offset + box.size
            pending_moof = False
    return init_size, playable


def _annexb_sps(extradata: bytes) -> bytes | None:
    for marker in (b"\x00\x00\x00\x01", b"\x00\x00\x01"):
        pos = extradata.find(marker)
        while pos >= 0:
            nal = extradata[pos + len(marker) :]
            if nal and nal[0] & 0x1F == 7:
                return nal
            pos = extradata.find(marker, pos + 1)
    return None


def avc_codec_string(extradata: bytes | None) -> str:
    """`avc1.PPCCLL` for MSE from avcC or Annex-B extradata (RTSP gives the latter)."""
    if extradata and extradata[0] == 1 and len(extradata) >= 4:
        profile, compat, level = extradata[1], extradata[2], extradata[3]
    else:
        sps = _annexb_sps(extradata or b"")
        if sps is None or len(sps) < 4:
            return "avc1.42E01E"  # baseline 3.0: what browsers accept when the stream gives no SPS
        profile, compat, level = sps[1], sps[2], sps[3]
    return f"avc1.{profile:02X}{compat:02X}{level:02X}"
