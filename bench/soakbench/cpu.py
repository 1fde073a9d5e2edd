"""CPU time the stack's parts use during the soak (from /proc, so other jobs on the machine
do not inflate it): sampled every few seconds per process, so a process that dies (a
killed worker, a restarted PostgreSQL) keeps what it had used until its last sample."""

import asyncio
import os
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def process_table() -> dict[int, int]:
    """pid -> parent pid of every process."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
    return parents


def with_descendants(roots, parents: dict[int, int]) -> list[int]:
    found, frontier = set(), {r for r in roots if r}
    while frontier:
        found |= frontier
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
    return sorted(found)


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


class CpuSampler:
    """`groups()` -> {"app": [root pids], "database": [...], ...}; each root counts with
    every process below it. `used` holds the CPU seconds of each group since start()."""

    def __init__(self, groups, every=2.0):
        self.groups = groups
        self.every = every
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.group_of: dict[int, str] = {}
        self.client_start = time.process_time()
        self.client = 0.0
        self._task = None

    def sample(self):
        parents = process_table()
        for name, roots in self.groups().items():
            for pid in with_descendants(roots, parents):
                seconds = cpu_seconds(pid)
                if seconds is None:
                    continue
                self.first.setdefault(pid, seconds)
                self.last[pid] = seconds
                self.group_of[pid] = name
        self.client = time.process_time() - self.client_start

    async def _run(self):
        while True:
            await asyncio.to_thread(self.sample)
            await asyncio.sleep(self.every)

    def start(self):
        self.sample()
        self._task = asyncio.create_task(self._run())

    def stop(self) -> dict[str, float]:
        if self._task:
            self._task.cancel()
        self.sample()
        used: dict[str, float] = {"load generator (this process)": self.client}
        for pid, name in self.group_of.items():
            used[name] = used.get(name, 0.0) + self.last[pid] - self.first[pid]
        return used
