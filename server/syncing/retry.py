"""A push that lost a deadlock, a serialization race or a uniqueness race runs again.

The whole transaction is rolled back and run again from scratch (a fresh store, the
device row read again), so nothing is applied twice; meeting alerts are rows written in
the same transaction, so nothing is sent twice either. After ATTEMPTS tries the answer
is `503 retry` with Retry-After: nothing was kept, and the phone sends the batch again.
"""

import logging
import random
import time

from sqlalchemy import exc as sa_exc

from server.errors import describe_database_error, is_retryable, retry_later
from server.extensions import db
from server.syncing.locks import LockRestart

log = logging.getLogger(__name__)

ATTEMPTS = 4
BACKOFF_SECONDS = 0.02  # times the attempt number, jittered


def why_again(exc) -> str | None:
    """Why this failure may be retried, or None when it may not (it is not a race)."""
    if isinstance(exc, LockRestart):
        return f"lock restart: {exc}"
    if isinstance(exc, sa_exc.IntegrityError) or is_retryable(exc):
        return describe_database_error(exc)
    return None


def with_retries(run, device_id):
    """Call run() (one whole push transaction) until it is not lost to a race."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return run()
        except (sa_exc.OperationalError, sa_exc.IntegrityError, LockRestart) as exc:
            reason = why_again(exc)
            if reason is None:
                raise  # e.g. the connection is lost: answered database_unavailable
            db.session.rollback()
            if attempt == ATTEMPTS:
                log.warning(
                    "Push of device %s lost %d times (%s); answering 503",
                    device_id,
                    attempt,
                    reason,
                )
                raise retry_later() from exc
            log.warning(
                "Push of device %s tried again after %s (attempt %d of %d)",
                device_id,
                reason,
                attempt,
                ATTEMPTS,
            )
            time.sleep(BACKOFF_SECONDS * attempt * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")
