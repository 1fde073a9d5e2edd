"""The app as the crash histories run it under gunicorn (tests only; production never
loads this module). Two test headers drive it:

- X-Sim-Clock-Ms: the simulated server clock of the history (server.records.time), so a
  history on the real server keeps the clocks of the convergence simulation;
- X-Test-Crash: where the worker SIGKILLs itself during this push:
  `apply:N` before the N-th new mutation of the batch is applied (between mutations),
  `before_commit` with the batch written and flushed but not committed,
  `after_commit` with the batch committed and the answer made but not sent (the answer
  is first written to the file named by X-Test-Crash-Answer: the harness keeps every
  answer the server gave, even one the phone never got).
"""

import gzip
import json
import os
import signal
import time as _time

from flask import g, has_request_context, request

import server.records
from server import create_app as create_server_app
from server.extensions import db
from server.syncing import push

CRASH_APP = "tests.server.syncing.crash_server_app:create_app()"
CLOCK_HEADER = "X-Sim-Clock-Ms"
CRASH_HEADER = "X-Test-Crash"
ANSWER_HEADER = "X-Test-Crash-Answer"
PUSH_PATH = "/api/sync/push"


class RequestClock:
    """The request's simulated clock, or the real one outside a request."""

    def time(self):
        if has_request_context():
            value = request.headers.get(CLOCK_HEADER)
            if value:
                return int(value) / 1000
        return _time.time()


def crash_point():
    return request.headers.get(CRASH_HEADER, "") if has_request_context() else ""


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def create_app():
    app = create_server_app()
    server.records.time = RequestClock()
    real_apply_one = push.apply_one

    def apply_one(store, who, raw, now, events):
        g.crash_applying = g.get("crash_applying", 0) + 1
        if crash_point() == f"apply:{g.crash_applying}":
            db.session.flush()  # what the batch wrote so far goes to the database, uncommitted
            die()
        return real_apply_one(store, who, raw, now, events)

    push.apply_one = apply_one

    def before_commit(applied):
        if crash_point() == "before_commit":
            db.session.flush()
            die()

    app.extensions["sync.before_commit"] = before_commit

    @app.after_request
    def after_commit(response):
        if request.path == PUSH_PATH and crash_point() == "after_commit":
            path = request.headers[ANSWER_HEADER]
            data = response.get_data()
            if response.headers.get("Content-Encoding") == "gzip":
                data = gzip.decompress(data)
            with open(path + ".part", "w", encoding="utf-8") as out:
                json.dump({"status": response.status_code, "body": json.loads(data)}, out)
            os.replace(path + ".part", path)
            die()
        return response

    # Under --preload the app is made in the master: each worker gets its own connections.
    def fresh_pool():
        with app.app_context():
            db.engine.dispose(close=False)

    os.register_at_fork(after_in_child=fresh_pool)
    return app
