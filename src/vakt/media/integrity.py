"""The start-up check of indexed footage: is each segment file still the one that was indexed?

Cheap on purpose (every indexed segment is checked at each start): the file exists, its size is the
indexed size, its top-level boxes are `ftyp moov (moof mdat)+` up to that size (box headers only,
read with seeks), and the first fragment's media begins with whole H.264 NAL units that include a
keyframe (IDR). About 0.1 ms a segment; opening each with PyAV costs 17-32 ms (20 s per 1,000), too
slow for every start. A segment that fails is marked damaged in the index and shown as a gap; it is
never served as good footage.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from vakt.media.segments import start_from_name


def _box_headers(f: BinaryIO, size: int) -> list[tuple[str, int]]:
    """(kind, size) of each top-level box up to `size`; raises ValueError where the structure breaks."""
    boxes: list[tuple[str, int]] = []
    pos = 0
    while pos < size:
        f.seek(pos)
        header = f.read(16)
        if len(header) < 8:
            raise ValueError(f"box header cut at byte {pos}")
        length, kind = struct.unpack(">I4s", header[:8])
        if length == 1 and len(header) == 16:
            length = struct.unpack(">Q", header[8:16])[0]
        if length < 8 or pos + length > size:
            raise ValueError(f"box structure broken at byte {pos}")
        boxes.append((kind.decode("latin-1"), length))
        pos += length
    return boxes


def _structure_problem(boxes: list[tuple[str, int]], init_size: int) -> str | None:
    kinds = [k for k, _ in boxes]
    if kinds[:2] != ["ftyp", "moov"] or boxes[0][1] + boxes[1][1] != init_size:
        return "the file does not begin with the indexed MP4 header (ftyp, moov)"
    media = [k for k in kinds[2:] if k in ("moof", "mdat")]
    if not media or media[0] != "moof" or media[-1] != "mdat":
        return "the file has no whole fragment (moof + mdat)"
    return None


IDR = 5
NAL_LOOKAHEAD = 64 * 1024


def _keyframe_problem(f: BinaryIO, boxes: list[tuple[str, int]]) -> str | None:
    """The first mdat must begin with length-prefixed NAL units (AVCC) reaching an IDR slice."""
    offset = 0
    for kind, length in boxes:
        if kind == "mdat":
            break
        offset += length
    f.seek(offset + 8)
    data = f.read(min(NAL_LOOKAHEAD, length - 8))
    pos = 0
    while pos + 5 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        header = data[pos + 4]
        if size == 0 or header & 0x80 or header & 0x1F == 0:
            return f"no H.264 video in the first fragment (broken NAL unit at byte {offset + 8 + pos})"
        if header & 0x1F == IDR:
            return None
        pos += 4 + size
    return "the first fragment holds no keyframe"


def check_segment(path: Path, size: int, init_size: int) -> str | None:
    """None when the segment looks whole; otherwise why it is damaged, in words."""
    if start_from_name(path) is None:
        return f"unexpected file name {path.name!r} in {path.parent}"
    try:
        actual = path.stat().st_size
    except FileNotFoundError:
        return "the file is missing"
    except OSError as exc:
        return f"the file cannot be read: {exc.strerror or exc}"
    if actual != size:
        return f"the file has {actual} bytes, {size} were indexed"
    try:
        with path.open("rb") as f:
            boxes = _box_headers(f, size)
            return _structure_problem(boxes, init_size) or _keyframe_problem(f, boxes)
    except ValueError as exc:
        return f"the file is not a fragmented MP4 any more ({exc})"
    except OSError as exc:
        return f"the file cannot be read: {exc.strerror or exc}"
