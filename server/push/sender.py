"""Encrypt and post one push message per job, on a small pool of threads (a real push
service is a network round trip away; one thread would wait most of the time)."""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
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
    def __init__(self, signer, threads=8, timeout=(5.0, 15.0)):
        self.signer = signer
        self.timeout = timeout
        self.threads = max(1, threads)
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="push-send")
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def send(self, job: Job) -> Outcome:
        headers = {
            "Authorization": self.signer.authorization(origin(job.endpoint)),
            "Urgency": job.urgency,
            "Topic": job.topic,
        }
        pusher = WebPusher(
            {"endpoint": job.endpoint, "keys": {"p256dh": job.p256dh, "auth": job.auth}},
            requests_session=self._session(),
        )
        try:
            response = pusher.send(
                data=job.body,
                headers=headers,
                ttl=job.ttl,
                content_encoding="aes128gcm",
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            log.warning("Push to %s failed: %s", origin(job.endpoint), exc.__class__.__name__)
            return Outcome(job.delivery_id, job.endpoint, None, error=exc.__class__.__name__)
        error = None
        if response.status_code >= 300:
            error = (response.text or response.reason or "")[:200]
        return Outcome(
            job.delivery_id,
            job.endpoint,
            response.status_code,
            retry_after_seconds(response.headers.get("Retry-After")),
            error,
        )

    def send_all(self, jobs: list[Job]) -> list[Outcome]:
        if self.threads == 1 or len(jobs) < 2:
            return [self.send(job) for job in jobs]
        return list(self._pool.map(self.send, jobs))

    def close(self):
        self._pool.shutdown(wait=True)
