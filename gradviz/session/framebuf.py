"""Frames through shared memory: the trainer writes, the window reads, nothing queues.

A frame is pickled with protocol 5 and its numpy arrays kept out of band: the small pickle
and the raw array bytes are copied into one shared-memory block, and the window copies them
out in one piece. There is one block at a time; when a frame outgrows it (the history grows,
or a reset brings other shapes) the trainer makes a block twice the size and unlinks the old
one. The window asks for the next frame only once it has read this one, so the two processes
never touch the block at the same time and no lock is needed.

Block layout: ``count`` (8 bytes), then ``count`` pairs of (offset, length) (8 bytes each):
the pickle first, then each array's bytes, every part starting on a 64-byte boundary.
"""

from __future__ import annotations

import pickle
import struct
from multiprocessing import shared_memory

MIN_BLOCK = 1 << 20
ALIGN = 64


def _aligned(offset: int) -> int:
    return (offset + ALIGN - 1) // ALIGN * ALIGN


class FrameWriter:
    """The trainer's side: owns the block and unlinks it when it makes a new one or ends."""

    def __init__(self) -> None:
        self.block: shared_memory.SharedMemory | None = None

    def write(self, value: object) -> tuple[str, int]:
        """Put ``value`` into the block; returns the block's name and the bytes used."""
        buffers: list[pickle.PickleBuffer] = []
        data = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
        parts = [memoryview(data), *(buffer.raw() for buffer in buffers)]
        offset = _aligned(8 + 16 * len(parts))
        places = []
        for part in parts:
            places.append((offset, part.nbytes))
            offset = _aligned(offset + part.nbytes)
        if self.block is None or self.block.size < offset:
            self.close()
            self.block = shared_memory.SharedMemory(create=True, size=max(MIN_BLOCK, 2 * offset))
        buf = self.block.buf
        struct.pack_into("<q", buf, 0, len(parts))
        for index, ((start, length), part) in enumerate(zip(places, parts, strict=True)):
            struct.pack_into("<qq", buf, 8 + 16 * index, start, length)
            buf[start : start + length] = part.cast("B")
        return self.block.name, offset

    def close(self) -> None:
        if self.block is not None:
            self.block.close()
            try:
                self.block.unlink()
            except FileNotFoundError:
                pass
            self.block = None


class FrameReader:
    """The window's side: maps the block the trainer names and copies a frame out of it."""

    def __init__(self) -> None:
        self.block: shared_memory.SharedMemory | None = None

    def read(self, name: str, size: int) -> object:
        if self.block is None or self.block.name != name:
            self.close()
            self.block = shared_memory.SharedMemory(name=name)
        with self.block.buf[:size] as view:
            data = bytearray(view)  # one copy: the trainer may write the next frame over the block
        whole = memoryview(data)
        (count,) = struct.unpack_from("<q", data, 0)
        places = [struct.unpack_from("<qq", data, 8 + 16 * index) for index in range(count)]
        parts = [whole[start : start + length] for start, length in places]
        return pickle.loads(parts[0], buffers=parts[1:])

    def close(self, unlink: bool = False) -> None:
        """Unmap the block; ``unlink``: also remove it (the trainer died and cannot)."""
        if self.block is not None:
            self.block.close()
            if unlink:
                try:
                    self.block.unlink()
                except FileNotFoundError:
                    pass
            self.block = None
