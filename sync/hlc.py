"""Hybrid logical clock stamps: "<13-digit ms>-<4 hex counter>-<node>", ordered as strings."""

import re

# Matched whole (fullmatch): `$` would also accept a trailing newline.
HLC_RE = re.compile(r"(\d{13})-([0-9a-f]{4})-([0-9A-Za-z-]{1,64})", re.ASCII)
# An HLC further ahead of the server than this counts as the moment it arrived (rule 2 of
# docs/protocol.md).
MAX_DRIFT_MS = 60_000
SERVER_NODE = "server"


def parse(hlc: str) -> tuple[int, int, str]:
    match = HLC_RE.fullmatch(hlc or "")
    if not match:
        raise ValueError(f"not an HLC: {hlc!r}")
    return int(match[1]), int(match[2], 16), match[3]


def format_hlc(ms: int, counter: int, node: str) -> str:
    return f"{ms:013d}-{counter:04x}-{node}"


def is_valid(hlc) -> bool:
    return isinstance(hlc, str) and HLC_RE.fullmatch(hlc) is not None


def clamp(hlc: str, now_ms: int, floor_ms: int | None = None) -> str:
    """The HLC as the server counts it: one too far in the future becomes 'now', and one
    from before `floor_ms` (when the device was registered: it cannot have typed anything
    earlier) is raised to it, keeping its counter so the device's own order holds."""
    ms, counter, node = parse(hlc)
    if ms > now_ms + MAX_DRIFT_MS:
        return format_hlc(now_ms, 0, node)
    if floor_ms is not None and ms < floor_ms:
        return format_hlc(min(floor_ms, now_ms), counter, node)
    return hlc


def server_stamp(now_ms: int, seen: str | None = None) -> str:
    """The server's clock: now, or just after the latest (clamped) HLC it has seen."""
    if seen:
        ms, counter, _node = parse(seen)
        if ms >= now_ms:
            return format_hlc(ms, min(counter + 1, 0xFFFF), SERVER_NODE)
    return format_hlc(now_ms, 0, SERVER_NODE)


# The parts of an HLC sit at fixed offsets; these two read a stamp already checked
# (is_valid on the way in) without a regex, as the merge asks for them per field.


def millis(hlc: str) -> int:
    return int(hlc[:13])


def node(hlc: str) -> str:
    return hlc[19:]
