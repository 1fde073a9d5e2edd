"""How the soak's phones reach the server: aiohttp, gzip as the app does it, a timeout as a
phone's, connections dropped mid-request at random, and every exchange timed and sorted
by outcome."""

import asyncio
import gzip
import json
import random
import ssl
import time
from dataclasses import dataclass

import aiohttp
from soakbench.phone import SyncFailed
from syncbench.wire import PUSH_PATH, encode, pull_path, push_body

GZIP_OVER = 2048
# The app sets no timeout of its own (pwa/src/api/client.js): nginx answers 504 after its
# proxy_read_timeout (60 s). A phone gives up only well after that.
REQUEST_TIMEOUT = 120.0


@dataclass
class Sample:
    kind: str  # push, pull, read
    started: float  # time.time()
    seconds: float
    outcome: str  # "ok" or the error kind


class Net:
    """Sends the phones' requests to `base_url`; keeps a Sample of each one."""

    def __init__(self, urls, drop_rate: float, seed: int, ca_file: str | None = None):
        self.urls = urls  # () -> the base URLs that take requests now (one behind nginx)
        self.drop_rate = drop_rate
        self.rng = random.Random(seed)
        self.samples: list[Sample] = []
        self.ca_file = ca_file
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self):
        context = None
        if any(url.startswith("https") for url in self.urls()):
            context = ssl.create_default_context(cafile=self.ca_file)
            if self.ca_file is None:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        connector = aiohttp.TCPConnector(limit=400, ssl=context if context else False)
        self.session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        )
        return self

    async def __aexit__(self, *exc):
        await self.session.close()

    async def request(self, kind, method, path, token, body=None, drop=True) -> dict:
        """The JSON answer of a 200; else SyncFailed with the kind of failure."""
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
        data = None
        if body is not None:
            data = encode(body)
            headers["Content-Type"] = "application/json"
            if len(data) > GZIP_OVER:
                data = gzip.compress(data, 6)
                headers["Content-Encoding"] = "gzip"
        started, clock = time.time(), time.perf_counter()
        cut = self.rng.uniform(0.005, 0.3) if drop and self.rng.random() < self.drop_rate else None
        try:
            call = self._call(method, path, headers, data)
            status, answer, retry_after = await (
                asyncio.wait_for(call, cut) if cut is not None else call
            )
        except TimeoutError:
            kind_of = "dropped by the client" if cut is not None else "timeout"
            return self._fail(kind, started, clock, kind_of)
        except (aiohttp.ClientError, OSError, json.JSONDecodeError) as exc:
            return self._fail(kind, started, clock, _connection_error(exc))
        if status == 200:
            self.samples.append(Sample(kind, started, time.perf_counter() - clock, "ok"))
            return answer
        code = ""
        if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
            code = " " + str(answer["error"].get("code"))
        return self._fail(kind, started, clock, f"{status}{code}", retry_after)

    async def _call(self, method, path, headers, data):
        async with self.session.request(
            method, self.rng.choice(self.urls()) + path, headers=headers, data=data
        ) as response:
            raw = await response.read()
            retry_after = response.headers.get("Retry-After")
            try:
                answer = json.loads(raw) if raw else None
            except ValueError:
                answer = None
            return (
                response.status,
                answer,
                float(retry_after) if retry_after and retry_after.isdigit() else None,
            )

    def _fail(self, kind, started, clock, outcome, retry_after=None):
        self.samples.append(Sample(kind, started, time.perf_counter() - clock, outcome))
        raise SyncFailed(outcome, retry_after)

    async def push(self, phone, batch) -> dict:
        body = push_body(phone.person.device_id, batch, int(time.time() * 1000))
        return await self.request("push", "POST", PUSH_PATH, phone.person.token, body)

    async def pull(self, phone, cursor) -> dict:
        return await self.request("pull", "GET", pull_path(cursor, 500), phone.person.token)

    async def read(self, token, path) -> dict:
        return await self.request("read", "GET", path, token)


def _connection_error(exc) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connection refused"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server disconnected"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "answer cut off"
    return type(exc).__name__
