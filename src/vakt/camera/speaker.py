"""The camera's speaker (C5.3 two-way audio): talk audio received over HTTP is kept as WAV files."""

from __future__ import annotations

import io
import logging
import struct
import time
import wave
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
CHANNELS = 1
SAMPLE_WIDTH = 2
TALK_GAP_SECONDS = 3.0  # a pause longer than this starts a new talk file
MAX_FILE_SECONDS = 600


class SpeakerError(ValueError):
    """Audio the speaker cannot play; the message says why."""


def pcm_from_body(body: bytes) -> bytes:
    """PCM s16le 16 kHz mono from a raw chunk or a WAV file of that format."""
    if body[:4] == b"RIFF":
        try:
            with wave.open(io.BytesIO(body)) as wav:
                fmt = (wav.getframerate(), wav.getnchannels(), wav.getsampwidth())
                if fmt != (SAMPLE_RATE, CHANNELS, SAMPLE_WIDTH):
                    raise SpeakerError(
                        f"WAV must be 16 kHz mono 16-bit, got {fmt[0]} Hz, {fmt[1]} ch, {8 * fmt[2]}-bit"
                    )
                return wav.readframes(wav.getnframes())
        except (wave.Error, EOFError) as exc:
            raise SpeakerError(f"not a readable WAV file: {exc}") from exc
    if len(body) % SAMPLE_WIDTH:
        raise SpeakerError("raw PCM s16le must have an even number of bytes")
    return body


def _header(data_bytes: int) -> bytes:
    block = CHANNELS * SAMPLE_WIDTH
    fmt = struct.pack("<IHHIIHH", 16, 1, CHANNELS, SAMPLE_RATE, SAMPLE_RATE * block, block, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVE"
        + b"fmt "
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes)
    )


class Speaker:
    """Appends talk audio to ``talk-<time>.wav``; a gap of more than 3 s starts a new file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.last_file: Path | None = None
        self._data_bytes = 0
        self._last_chunk = 0.0

    @property
    def seconds(self) -> float:
        return self._data_bytes / (SAMPLE_RATE * CHANNELS * SAMPLE_WIDTH)

    @property
    def talking(self) -> bool:
        return self.last_file is not None and time.monotonic() - self._last_chunk < TALK_GAP_SECONDS

    def play(self, pcm: bytes, new_talk: bool = False) -> None:
        if not pcm:
            return
        if new_talk or not self.talking or self.seconds >= MAX_FILE_SECONDS or self.last_file is None:
            self._start_file()
        assert self.last_file is not None
        with self.last_file.open("r+b") as f:
            f.seek(0, io.SEEK_END)
            f.write(pcm)
            self._data_bytes += len(pcm)
            f.seek(0)
            f.write(_header(self._data_bytes))
        self._last_chunk = time.monotonic()

    def _start_file(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self.last_file = self.folder / f"talk-{stamp}.wav"
        self.last_file.write_bytes(_header(0))
        self._data_bytes = 0
        log.info("speaker: talk audio into %s", self.last_file)

    def summary(self) -> dict[str, object]:
        return {
            "last_file": self.last_file.name if self.last_file else None,
            "seconds": round(self.seconds, 3),
            "talking": self.talking,
        }
