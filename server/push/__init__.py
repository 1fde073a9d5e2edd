"""Web Push: device subscriptions, meeting alerts raised into the outbox, and the worker that
delivers them."""

import logging
import threading

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# Set when a transaction that queued alerts commits, so the in-process sender wakes
# at once instead of at its next poll.
wake = threading.Event()


@event.listens_for(Session, "after_commit")
def _wake_sender(session):
    if session.info.pop("push_queued", False):
        wake.set()


@event.listens_for(Session, "after_rollback")
def _forget_queued(session):
    session.info.pop("push_queued", None)


def init_app(app):
    """Settings, routes and commands; with PUSH_INPROCESS, a sender thread in this process."""
    from server.push import commands, settings
    from server.push.routes import bp

    for key, value in settings.from_environment().items():
        app.config.setdefault(key, value)
    app.register_blueprint(bp)
    commands.init_app(app)
    if app.config["PUSH_INPROCESS"]:
        start_inprocess_sender(app)


class InprocessSender:
    """The sender thread of `make run`; stop() ends it after the batch in hand."""

    def __init__(self, worker, poll_seconds):
        self.stopping = threading.Event()
        self.thread = threading.Thread(
            target=worker.run,
            args=(self.stopping, poll_seconds, wake),
            name="push-sender",
            daemon=True,
        )

    def stop(self, timeout=30):
        self.stopping.set()
        wake.set()
        self.thread.join(timeout)


def start_inprocess_sender(app):
    """Send from a daemon thread of this process (`make run`); production runs push-worker."""
    from server.push.vapid import PushNotConfigured
    from server.push.worker import PushWorker

    try:
        worker = PushWorker(app)
    except PushNotConfigured as exc:
        log.warning("Push alerts are off: %s", exc)
        return None
    sender = InprocessSender(worker, app.config["PUSH_POLL_SECONDS"])
    app.extensions["push_sender"] = sender
    sender.thread.start()
    return sender
