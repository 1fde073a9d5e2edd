"""The faults of the soak, on a schedule scaled to the run's length, and the windows they
open: a request overlapping a window (from the fault until the service has been back for
RECOVERY seconds) counts as inside it."""

import asyncio
import os
import signal
import time
from dataclasses import dataclass, field

RECOVERY = 10.0  # seconds after a fault ends that still count as its window


@dataclass
class Window:
    kind: str
    start: float  # time.time()
    end: float | None = None
    note: str = ""


@dataclass
class Faults:
    """Runs the schedule against `stack`; keeps every window and what each fault did."""

    stack: object
    minutes: float
    windows: list[Window] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    stopped: set = field(default_factory=set)  # nodes stopped now

    def schedule(self) -> list[tuple[float, str]]:
        """(seconds from the start, fault) for a run of `minutes`: a worker killed every
        minute (at :30), node 1 stopped for a minute at 25% and started again, PgBouncer
        restarted at 45%, PostgreSQL at 65%. A short run gets each fault once."""
        total = self.minutes * 60
        events = [(30.0 + 60 * k, "kill_worker") for k in range(int((total - 30) // 60) + 1)]
        events = [(t, f) for t, f in events if t < total - 5] or [(total * 0.1, "kill_worker")]
        node_down = min(60.0, total * 0.1)
        events += [
            (total * 0.25, "stop_node"),
            (total * 0.25 + node_down, "start_node"),
            (total * 0.45, "restart_pgbouncer"),
            (total * 0.65, "restart_postgres"),
        ]
        return sorted(events)

    async def run(self, started: float):
        """Carry out the schedule from `started` (monotonic), in a thread per fault so the
        phones' event loop never waits on a process."""
        killed = 0
        for at, fault in self.schedule():
            delay = started + at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if fault == "kill_worker":
                # Alternate between the nodes, but never the one stopped just now.
                node = killed % 2
                if node in self.stopped:
                    node = 1 - node
                killed += 1
                await self._apply(fault, f"node {node}", self.stack.kill_worker, node)
            elif fault == "stop_node":
                self.stopped.add(1)
                await self._apply(fault, "node 1", self.stack.stop_node, 1, keep_open=True)
            elif fault == "start_node":
                await self._close("stop_node", self.stack.start_node, 1)
                self.stopped.discard(1)
            else:
                await self._apply(fault, "", getattr(self.stack, fault))

    async def _apply(self, kind, note, action, *args, keep_open=False):
        window = Window(kind, time.time(), note=note)
        try:
            detail = await asyncio.to_thread(action, *args)
        except NotImplementedError as exc:
            self.skipped.append(f"{kind}: {exc}")
            return
        except Exception as exc:  # a fault that failed is reported, not fatal
            detail = f"failed: {type(exc).__name__}: {str(exc)[:120]}"
        self.windows.append(window)
        if detail:
            window.note = f"{note} {detail}".strip()
        if not keep_open:
            window.end = time.time()

    async def _close(self, kind, action, *args):
        await asyncio.to_thread(action, *args)
        for window in reversed(self.windows):
            if window.kind == kind and window.end is None:
                window.end = time.time()
                return

    def close_open(self):
        for window in self.windows:
            if window.end is None:
                window.end = time.time()

    def inside(self, start: float, seconds: float) -> bool:
        """Did a request from `start` lasting `seconds` overlap a fault window?"""
        end = start + seconds
        return any(w.start <= end and start <= (w.end or end) + RECOVERY for w in self.windows)


class LocalStack:
    """Two app nodes (gunicorn on the same throwaway database) without nginx or PgBouncer,
    for trying the soak on a machine without the production rehearsal: the phones spread
    their requests over the live nodes. PgBouncer and PostgreSQL restarts are not
    available here (the machine's PostgreSQL is shared), so those faults are skipped."""

    def __init__(self, database_url: str, workers: int = 2):
        from tests.server.syncing.server_process import SECRET_KEY, GunicornServer

        self.database_url = database_url
        self.secret_key = SECRET_KEY
        self.nodes = [GunicornServer(database_url, workers=workers, timeout=60) for _ in range(2)]
        self.ca_file = None

    def __enter__(self):
        for node in self.nodes:
            node.start()
        return self

    def __exit__(self, *exc):
        for node in self.nodes:
            node.stop()
            node.cleanup()

    def urls(self) -> list[str]:
        return [node.url for node in self.nodes if node.process and node.process.poll() is None]

    def log_paths(self) -> list:
        return []  # the plain gunicorn nodes log no request lines

    def process_groups(self) -> dict[str, list[int]]:
        return {"app nodes (gunicorn)": [n.process.pid for n in self.nodes if n.process]}

    def kill_worker(self, node: int):
        pids = self.nodes[node].worker_pids()
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            return f"pid {pids[0]}"
        return "no worker"

    def stop_node(self, node: int):
        self.nodes[node].stop()

    def start_node(self, node: int):
        self.nodes[node].start()

    def restart_pgbouncer(self):
        raise NotImplementedError("no PgBouncer in the local stack")

    def restart_postgres(self):
        raise NotImplementedError("the local stack uses the machine's shared PostgreSQL")
