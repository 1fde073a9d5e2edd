"""gunicorn settings for one app node (`gunicorn -c deploy/gunicorn.conf.py`).

Every value can be set from the environment file the systemd unit reads, so the same
file serves the server and the local rehearsal (tests/prod/stack.py).
"""

import glob
import multiprocessing
import os

wsgi_app = "server:create_app()"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
# Threads wait on PostgreSQL, processes use the cores: a worker per core plus one, each
# with a few threads (Argon2id at login is the CPU-heavy request).
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# A push is one transaction of at most a few seconds even under lock waits.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# nginx keeps connections to the nodes open (upstream keepalive): hold them longer than it.
keepalive = 75
# Requests are logged by the app itself, as JSON with the request id (server/monitoring).
accesslog = None
errorlog = "-"
loglevel = "info"
proc_name = os.environ.get("GUNICORN_NAME", "booth-connect")


def on_starting(server):
    """Forget metric files of processes that are gone (a worker of an earlier start);
    the push worker shares the directory and its files stay while it runs."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    for path in glob.glob(os.path.join(directory, "*.db")):
        pid = os.path.basename(path).rsplit("_", 1)[-1].removesuffix(".db")
        if pid.isdigit() and not _alive(int(pid)):
            os.remove(path)


def child_exit(server, worker):
    """A worker ended: its live gauges leave the sum (counters keep their count)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
