"""A protocol writer that appends every outgoing frame to a module-level bytearray that nothing ever drains.

Real-world bug class: a buffer that is written but never flushed (the flush path was dropped in a refactor). One
bytearray object, getting longer with every frame; the object count stays flat.
A right diagnosis reports the growing buffer at sys.modules['__main__'].OUTBOX and says to flush/trim it (or
bound it) after each write.
"""
# verdict: leak
# kinds: string-growth
# holder: __main__'].OUTBOX
import struct

import rounds

OUTBOX = bytearray()


def send(n):
    body = b"event:%d:" % n + b"." * 96
    OUTBOX.extend(struct.pack("!I", len(body)) + body)  # never drained


rounds.run(send, 600)
