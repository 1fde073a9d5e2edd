"""Small process helpers for the production rehearsal: free ports, running as the
`postgres` OS user when we are root, waiting for a port, and a process's children."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

PG_BIN_DIRS = (
    "/usr/local/bin",
    *sorted(map(str, Path("/usr/lib/postgresql").glob("*/bin")), reverse=True),
)


class MissingPiece(RuntimeError):
    """A program the rehearsal needs is not installed."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def program(name: str, dirs=()) -> str:
    """The path of `name` (in `dirs` first, then PATH and /usr/sbin), or MissingPiece."""
    for directory in dirs:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not found:
        raise MissingPiece(f"{name} is not installed (make prod-check installs it when root)")
    return found


def pg_program(name: str) -> str:
    return program(name, PG_BIN_DIRS)


def as_service_user(argv: list[str]) -> list[str]:
    """PostgreSQL and PgBouncer refuse to run as root: run them as `postgres` then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def give_to_service_user(*paths: Path):
    if os.geteuid() == 0:
        for path in paths:
            shutil.chown(path, "postgres", "postgres")


def wait_for_port(port: int, timeout: float = 30, process=None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s:\n{tail(log)}")


def tail(path: Path | None, lines: int = 40) -> str:
    if path is None or not Path(path).exists():
        return ""
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


def children(pid: int) -> list[int]:
    """The live direct children of `pid` (gunicorn's workers), read from /proc.

    A worker just killed stays a zombie (state Z) until its master reaps it: not live."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return sorted(found)


def stop(process: subprocess.Popen | None, timeout: float = 15, signal_name="terminate"):
    """End a process we started: SIGTERM (or `signal_name`), then SIGKILL after `timeout`."""
    if process is None or process.poll() is not None:
        return
    getattr(process, signal_name)()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
