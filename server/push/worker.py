"""The delivery worker: raise due reminders, claim due outbox rows, send, record outcomes.

Each row is sent by one worker at a time: claiming marks it `sending` under a random
token (PostgreSQL skips rows another worker is claiming, `FOR UPDATE SKIP LOCKED`;
SQLite has one writer at a time anyway), and the outcome is written only where that
token still holds. A worker that dies mid-batch leaves a lease that runs out; the rows
are then claimed again. That one case can send twice, which the per-meeting `Topic`
header makes harmless: the push service keeps only the newest message of a topic.
"""

import logging
import math
import secrets
import threading
import time

from sqlalchemy import and_, delete, or_, select, update

from server.accounts.models import User
from server.extensions import db
from server.meetings.models import Meeting
from server.monitoring.metrics import count_deliveries
from server.push import alerts, notification
from server.push.models import (
    EXPIRED,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    PushDelivery,
    PushEvent,
    PushSubscription,
)
from server.push.schemas import endpoint_problem
from server.push.sender import Job, Outcome, Sender
from server.push.vapid import signer

log = logging.getLogger(__name__)

HOUR = 3600
# Push services keep a message at most about four weeks.
MAX_TTL = 28 * 24 * HOUR
GONE = (404, 410)
RETRY = (429,)


class PushWorker:
    """One delivery loop. `clock` (seconds, like time.time) is replaceable for tests."""

    def __init__(self, app, clock=time.time, sender=None):
        self.app = app
        self.clock = clock
        cfg = app.config
        self.batch_size = cfg["PUSH_BATCH_SIZE"]
        self.max_attempts = cfg["PUSH_MAX_ATTEMPTS"]
        self.backoff = cfg["PUSH_BACKOFF_SECONDS"]
        self.backoff_max = cfg["PUSH_BACKOFF_MAX_SECONDS"]
        self.ttl_floor = cfg["PUSH_TTL_FLOOR_SECONDS"]
        self.keep_ms = cfg["PUSH_KEEP_DAYS"] * 24 * HOUR * 1000
        timeout = (cfg["PUSH_CONNECT_TIMEOUT"], cfg["PUSH_READ_TIMEOUT"])
        concurrency = cfg["PUSH_SEND_CONCURRENCY"]
        with app.app_context():
            self.sender = sender or Sender(
                signer(app), concurrency, timeout, cfg.get("PUSH_PROXY_URL")
            )
        # Long enough for a whole batch of timeouts: a lease must never run out while
        # its worker is still sending, or a second worker could send the same rows.
        rounds = math.ceil(self.batch_size / self.sender.concurrency)
        self.lease_ms = int((rounds * sum(timeout) + 60) * 1000)
        self.allowed_hosts = cfg["PUSH_ALLOWED_HOSTS"]
        self._pruned_at = 0

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- claiming ------------------------------------------------------------------

    def claim(self, now: int) -> tuple[str, list[int]]:
        token = secrets.token_hex(16)
        due = (
            select(PushDelivery.id)
            .where(
                or_(
                    and_(PushDelivery.status == PENDING, PushDelivery.next_attempt_at <= now),
                    and_(PushDelivery.status == SENDING, PushDelivery.lease_until < now),
                )
            )
            .order_by(PushDelivery.next_attempt_at, PushDelivery.id)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
        )
        ids = db.session.scalars(
            update(PushDelivery)
            .where(PushDelivery.id.in_(due))
            .values(
                status=SENDING,
                claim_token=token,
                lease_until=now + self.lease_ms,
                attempts=PushDelivery.attempts + 1,
            )
            .returning(PushDelivery.id)
            .execution_options(synchronize_session=False)
        ).all()
        db.session.commit()
        return token, ids

    def _jobs(self, ids: list[int], now: int):
        """Turn claimed rows into messages; rows no longer worth sending come back expired,
        and rows whose endpoint the subscribe check would refuse today come back refused."""
        rows = db.session.execute(
            select(
                PushDelivery.id,
                PushEvent.id,
                PushEvent.kind,
                PushEvent.meeting_id,
                PushEvent.snapshot,
                PushSubscription.endpoint,
                PushSubscription.p256dh,
                PushSubscription.auth,
                User.language,
                Meeting.status,
                Meeting.starts_at,
                Meeting.deleted,
            )
            .join(PushEvent, PushEvent.id == PushDelivery.event_id)
            .join(PushSubscription, PushSubscription.id == PushDelivery.subscription_id)
            .join(User, User.id == PushSubscription.user_id)
            .join(Meeting, Meeting.id == PushEvent.meeting_id)
            .where(PushDelivery.id.in_(ids))
        ).all()
        db.session.commit()
        jobs, expired, refused, bodies = [], [], [], {}
        for (
            delivery_id,
            event_id,
            kind,
            meeting_id,
            snap,
            endpoint,
            p256dh,
            auth,
            language,
            status,
            starts_at,
            deleted,
        ) in rows:
            starts = snap["starts_at"]
            stale_reminder = kind.startswith("reminder") and (
                status != "scheduled" or deleted or starts_at != starts
            )
            if starts <= now or stale_reminder:
                expired.append(delivery_id)
                continue
            if endpoint_problem(endpoint, self.allowed_hosts):
                # Stored before the address check tightened (or the allowed hosts changed):
                # never posted to; the subscription goes as if the service had said 410.
                refused.append(Outcome(delivery_id, endpoint, 410, error="endpoint refused"))
                continue
            lang = notification.language_of(language)
            if (event_id, lang) not in bodies:
                bodies[event_id, lang] = notification.build(kind, meeting_id, snap, lang, event_id)
            until_start = (starts - now) // 1000
            jobs.append(
                Job(
                    delivery_id=delivery_id,
                    endpoint=endpoint,
                    p256dh=p256dh,
                    auth=auth,
                    body=bodies[event_id, lang],
                    ttl=int(min(MAX_TTL, max(self.ttl_floor, until_start))),
                    urgency="high" if until_start <= HOUR else "normal",
                    # Topic: at most 32 URL-safe characters; a UUID's hex digits fit.
                    topic=meeting_id.replace("-", ""),
                )
            )
        return jobs, expired, refused

    # -- recording -----------------------------------------------------------------

    def _backoff_ms(self, attempts: int, retry_after: float | None) -> int:
        wait = min(self.backoff_max, self.backoff * 2 ** max(0, attempts - 1))
        # A little jitter so thousands of rows failed together do not retry together.
        wait *= 1 + secrets.randbelow(100) / 1000
        if retry_after is not None:
            wait = max(wait, retry_after)
        return int(wait * 1000)

    def record(self, token: str, outcomes, expired: list[int], now: int) -> dict:
        attempts = dict(
            db.session.execute(
                select(PushDelivery.id, PushDelivery.attempts).where(
                    PushDelivery.id.in_([o.delivery_id for o in outcomes])
                )
            ).all()
        )
        rows, gone = [], []
        counts = {"sent": 0, "retry": 0, "failed": 0, "gone": 0, "expired": len(expired)}
        for o in outcomes:
            if o.status in GONE:
                gone.append(o)
                counts["gone"] += 1
            else:
                rows.append(self._outcome_row(o, attempts, now, counts))
        rows += [
            {
                "_id": i,
                "_status": EXPIRED,
                "_next": now,
                "_sent": None,
                "_code": None,
                "_error": "meeting started or moved",
            }
            for i in expired
        ]
        self._write_outcomes(token, rows)
        for o in gone:
            # Only the subscription that answered 410: a device that re-subscribed
            # meanwhile has a new endpoint and keeps it.
            db.session.execute(
                delete(PushSubscription).where(
                    PushSubscription.id
                    == select(PushDelivery.subscription_id)
                    .where(PushDelivery.id == o.delivery_id)
                    .scalar_subquery(),
                    PushSubscription.endpoint == o.endpoint,
                )
            )
        db.session.commit()
        return counts

    def _outcome_row(self, o, attempts: dict, now: int, counts: dict) -> dict:
        """What a send's outcome (other than gone) makes of its row: sent, retried later
        or failed; counted in `counts`."""
        row = {
            "_id": o.delivery_id,
            "_status": None,
            "_next": now,
            "_sent": None,
            "_code": o.status,
            "_error": o.error,
        }
        if o.status is not None and 200 <= o.status < 300:
            row.update(_status=SENT, _sent=now, _error=None)
            counts["sent"] += 1
        elif o.status is None or o.status in RETRY or o.status >= 500:
            tries = attempts.get(o.delivery_id, self.max_attempts)
            if tries >= self.max_attempts:
                row["_status"] = FAILED
                counts["failed"] += 1
            else:
                row.update(_status=PENDING, _next=now + self._backoff_ms(tries, o.retry_after))
                counts["retry"] += 1
        else:
            row["_status"] = FAILED
            counts["failed"] += 1
            log.warning("Push refused with %s: %s", o.status, o.error)
        return row

    def _write_outcomes(self, token: str, rows: list[dict]):
        """One UPDATE per distinct outcome (nearly always: every row "sent" at once),
        rather than one per row; only where this worker's claim still holds."""
        table = PushDelivery.__table__
        groups: dict[tuple, list[int]] = {}
        for row in rows:
            values = (row["_status"], row["_next"], row["_sent"], row["_code"], row["_error"])
            groups.setdefault(values, []).append(row["_id"])
        for (status, next_at, sent_at, code, error), ids in groups.items():
            db.session.execute(
                update(table)
                .where(table.c.id.in_(ids), table.c.claim_token == token)
                .values(
                    status=status,
                    next_attempt_at=next_at,
                    sent_at=sent_at,
                    last_status=code,
                    last_error=error,
                    claim_token=None,
                    lease_until=None,
                )
            )

    # -- the loop ------------------------------------------------------------------

    def deliver_batch(self) -> dict | None:
        """Claim, send and record one batch; None when nothing is due."""
        now = self.now_ms()
        token, ids = self.claim(now)
        if not ids:
            return None
        jobs, expired, refused = self._jobs(ids, now)
        outcomes = self.sender.send_all(jobs) + refused
        return count_deliveries(self.record(token, outcomes, expired, self.now_ms()))

    def prune(self, now: int) -> None:
        db.session.execute(
            delete(PushDelivery).where(
                PushDelivery.status.in_((SENT, FAILED, EXPIRED)),
                PushDelivery.next_attempt_at < now - self.keep_ms,
            )
        )
        db.session.commit()
        self._pruned_at = now

    def run_once(self, stop: threading.Event | None = None) -> dict:
        """Raise due reminders, then send until nothing is due now (or `stop` is set);
        the counts."""
        totals = {"reminders": 0, "sent": 0, "retry": 0, "failed": 0, "gone": 0, "expired": 0}
        with self.app.app_context():
            now = self.now_ms()
            totals["reminders"] = alerts.schedule_reminders(now)
            if now - self._pruned_at > HOUR * 1000:
                self.prune(now)
            while not (stop and stop.is_set()) and (counts := self.deliver_batch()) is not None:
                for key, value in counts.items():
                    totals[key] += value
            db.session.remove()
        return totals

    def run(self, stop: threading.Event, poll_seconds: float, wake: threading.Event | None = None):
        """Loop until `stop` is set; finishes the batch in hand before returning."""
        log.info("Push worker started")
        while not stop.is_set():
            if wake is not None:
                wake.clear()
            try:
                totals = self.run_once(stop)
                if totals["sent"] or totals["failed"] or totals["gone"]:
                    log.info("Push worker: %s", totals)
            except Exception:
                # A database restart or a bad row must not end the loop for good.
                log.exception("Push worker step failed")
                with self.app.app_context():
                    db.session.remove()
            (wake or stop).wait(poll_seconds)
        self.sender.close()
        log.info("Push worker stopped")
