"""Line splitting for line-based serial devices (ASCII boards, barcode scanners)."""

from __future__ import annotations


def split_lines(buffer: bytes, max_line: int) -> tuple[list[bytes], list[bytes], bytes]:
    """Cut ``buffer`` at CR and/or LF.

    Returns ``(lines, too_long, rest)``: complete non-empty lines (CR LF, LF CR, a lone CR or
    a lone LF all end a line; the empty line between CR and LF is dropped), lines longer
    than ``max_line`` (dropped by the caller as noise), and the unfinished tail.
    """
    lines: list[bytes] = []
    too_long: list[bytes] = []
    start = 0
    for i, byte in enumerate(buffer):
        if byte in (0x0D, 0x0A):
            line = bytes(buffer[start:i])
            if len(line) > max_line:
                too_long.append(line)
            elif line:
                lines.append(line)
            start = i + 1
    rest = bytes(buffer[start:])
    if len(rest) > max_line:
        too_long.append(rest)
        rest = b""
    return lines, too_long, rest
