"""Encrypt and post push messages, many at a time on one asyncio loop: a real push service
is a network round trip away, and one message at a time would wait most of the time.

pywebpush encrypts (RFC 8291, aes128gcm); aiohttp posts. Measured in bench/push_fanout.py:
about half the CPU per message of a thread pool with requests or urllib3.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import aiohttp
from pywebpush import WebPusher

log = logging.getLogger(__name__)


@dataclass
class Job:
    delivery_id: int
    endpoint: str
    p256dh: str
    auth: str
    body: bytes
    ttl: int
    urgency: str
    topic: str


@dataclass
class Outcome:
    delivery_id: int
    endpoint: str
    status: int | None
    retry_after: float | None = None
    error: str | None = None


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds from now: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, at.timestamp() - (time.time() if now is None else now))


def origin(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


class Sender:
    """Sends a batch of jobs with up to `concurrency` requests in flight. Owns its event
    loop, so any one thread at a time may call send_all."""

    def __init__(self, signer, concurrency=32, timeout=(5.0, 15.0), proxy_url=None):
        self.signer = signer
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.proxy_url = proxy_url
        self._loop = asyncio.new_event_loop()
        self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.concurrency),
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self.timeout[0], sock_read=self.timeout[1]
                ),
                # The proxy, if any, is configured explicitly (PUSH_PROXY_URL).
                trust_env=False,
                auto_decompress=False,
            )
        return self._session

    async def _send(self, job: Job, slots: asyncio.Semaphore) -> Outcome:
        async with slots:
            pusher = WebPusher(
                {"endpoint": job.endpoint, "keys": {"p256dh": job.p256dh, "auth": job.auth}}
            )
            headers = {
                "Authorization": self.signer.authorization(origin(job.endpoint)),
                "Content-Encoding": "aes128gcm",
                "Content-Type": "application/octet-stream",
                "TTL": str(job.ttl),
                "Urgency": job.urgency,
                "Topic": job.topic,
            }
            body = pusher.encode(job.body, "aes128gcm")["body"]
            try:
                async with self._client().post(
                    job.endpoint,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                    proxy=self.proxy_url,
                ) as response:
                    text = await response.text(errors="replace") if response.status >= 300 else ""
                    return Outcome(
                        job.delivery_id,
                        job.endpoint,
                        response.status,
                        retry_after_seconds(response.headers.get("Retry-After")),
                        (text[:200] or response.reason) if response.status >= 300 else None,
                    )
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("Push to %s failed: %s", origin(job.endpoint), exc.__class__.__name__)
                return Outcome(job.delivery_id, job.endpoint, None, error=exc.__class__.__name__)

    async def _send_all(self, jobs):
        slots = asyncio.Semaphore(self.concurrency)
        return await asyncio.gather(*(self._send(job, slots) for job in jobs))

    def send_all(self, jobs: list[Job]) -> list[Outcome]:
        if not jobs:
            return []
        return self._loop.run_until_complete(self._send_all(jobs))

    def close(self):
        if self._loop.is_closed():
            return
        if self._session is not None:
            self._loop.run_until_complete(self._session.close())
        self._loop.close()
