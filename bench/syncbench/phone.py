"""A phone over HTTP: one device pushing and pulling as the app does, and running many."""

import gzip
import http.client
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from syncbench import wire
from syncbench.seeding import Person

GZIP_OVER = 2048  # the app gzips request bodies above this (pwa/src/api/client.js)


@dataclass
class Exchange:
    status: int
    answer: dict | None
    seconds: float
    bytes_up: int
    bytes_down: int
    body_down: int


class Phone:
    """One device: its token, outbox seq and HLC; speaks HTTP like the app (no keep-alive:
    gunicorn's sync workers close each connection)."""

    def __init__(self, base_url: str, person: Person):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.person = person
        self.seq = 0
        self.counter = 0
        self.cursor = ""

    def hlc(self, now_ms: int) -> str:
        self.counter = (self.counter + 1) % 0xFFFF
        return wire.hlc(now_ms, self.counter, self.person.device_id)

    def mutation(
        self, record_id, fields, base_version=None, entity="member", op="upsert", stamp=None
    ) -> dict:
        """The next outbox entry, stamped now unless `stamp` is given."""
        self.seq += 1
        stamp = stamp or self.hlc(int(time.time() * 1000))
        return wire.mutation(self.seq, entity, record_id, stamp, fields, base_version, op)

    def request(self, method, path, body: bytes | None = None, headers=None) -> Exchange:
        headers = {
            "Authorization": f"Bearer {self.person.token}",
            "Accept-Encoding": "gzip",
            **(headers or {}),
        }
        started = time.perf_counter()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=600)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        seconds = time.perf_counter() - started
        head_down = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + len(
            str(response.msg).replace("\n", "\r\n")
        )
        head_up = len(f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n") + sum(
            len(k) + len(str(v)) + 4 for k, v in headers.items()
        )
        plain = gzip.decompress(raw) if response.getheader("Content-Encoding") == "gzip" else raw
        answer = json.loads(plain) if plain else None
        return Exchange(
            response.status,
            answer,
            seconds,
            head_up + len(body or b""),
            head_down + len(raw),
            len(raw),
        )

    def push(self, mutations: list[dict], client_time: int | None = None) -> Exchange:
        client_time = int(time.time() * 1000) if client_time is None else client_time
        body = wire.encode(wire.push_body(self.person.device_id, mutations, client_time))
        headers = {"Content-Type": "application/json"}
        if len(body) > GZIP_OVER:
            body = gzip.compress(body, 6)
            headers["Content-Encoding"] = "gzip"
        exchange = self.request("POST", wire.PUSH_PATH, body, headers)
        if exchange.status != 200:
            raise RuntimeError(f"push answered {exchange.status}: {exchange.answer}")
        return exchange

    def pull_page(self, limit=500) -> Exchange:
        exchange = self.request("GET", wire.pull_path(self.cursor, limit))
        if exchange.status != 200:
            raise RuntimeError(f"pull answered {exchange.status}: {exchange.answer}")
        self.cursor = exchange.answer["cursor"]
        return exchange

    def pull_all(self, limit=500) -> list[Exchange]:
        """Every page from the cursor on; a reset (the cursor is unknown) starts again."""
        pages = [self.pull_page(limit)]
        while pages[-1].answer["has_more"] or pages[-1].answer["reset"]:
            if pages[-1].answer["reset"] and len(pages) > 3:
                raise RuntimeError("the server keeps resetting the pull")
            pages.append(self.pull_page(limit))
        return pages


def in_parallel(work, items, clients: int):
    """Yield `work(item)` for every item as each finishes, from `clients` threads; on an
    error or Ctrl-C the queued items are dropped instead of run to the end."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    pool = ThreadPoolExecutor(clients)
    try:
        for future in as_completed([pool.submit(work, item) for item in items]):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def count_statuses(results) -> dict:
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    return counts


def first_problems(results, limit=3) -> list:
    """A few results that were neither applied nor merged, to print when something is off."""
    return [r for r in results if r["status"] not in ("applied", "merged")][:limit]
