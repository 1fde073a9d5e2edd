"""The app as the crash test runs it under gunicorn: the worker SIGKILLs itself inside a
push's transaction, once the push has written SYNC_CRASH_AFTER mutations and before it
commits (at service.before_commit)."""

import os
import signal

from server import create_app as create_server_app
from server.extensions import db

CRASHING_APP = "tests.server.syncing.crashing_app:create_app()"


def create_app():
    app = create_server_app()
    crash_after = int(os.environ["SYNC_CRASH_AFTER"])

    def kill_worker(applied):
        if applied >= crash_after:
            db.session.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    app.extensions["sync.before_commit"] = kill_worker
    return app
