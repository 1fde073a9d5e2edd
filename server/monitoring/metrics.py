"""Prometheus metrics at /metrics, for the addresses in METRICS_ALLOWED only.

Counters and histograms are kept by each process. Under gunicorn every worker is its own
process, so with PROMETHEUS_MULTIPROC_DIR set (deploy/gunicorn.conf.py, the push worker's
service too) each writes its figures to files there and a scrape adds them all up
(prometheus-client's multiprocess mode). Figures that are the database's state (the push
outbox, active devices) are read from it at each scrape instead. Labels are route
patterns, statuses and outcomes: nothing a person typed ever becomes a label.
"""

import ipaddress
import logging
import os
import time

from flask import Blueprint, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from server.errors import ApiError
from server.monitoring.logs import route_of

log = logging.getLogger(__name__)
bp = Blueprint("monitoring", __name__)

REQUESTS = Counter(
    "booth_http_requests_total", "HTTP requests answered", ["route", "method", "status"]
)
LATENCY = Histogram(
    "booth_http_request_duration_seconds",
    "Time to answer a request, by route",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SYNC_PUSHES = Counter("booth_sync_pushes_total", "Sync pushes answered, by HTTP status", ["status"])
SYNC_PULLS = Counter("booth_sync_pulls_total", "Sync pulls answered, by HTTP status", ["status"])
MUTATIONS = Counter(
    "booth_sync_mutations_total", "Pushed mutations, by outcome (applied, conflict...)", ["status"]
)
DELIVERIES = Counter(
    "booth_push_deliveries_total", "Web Push delivery attempts, by result", ["result"]
)
SYNC_COUNTERS = {"sync.push": SYNC_PUSHES, "sync.pull": SYNC_PULLS}
# Devices seen within these windows count as active.
ACTIVE_WINDOWS = {"1h": 3600, "1d": 86400, "7d": 7 * 86400}


def count_mutations(answer: dict) -> dict:
    """Count a push answer's mutations by outcome; the answer, unchanged."""
    for result in answer.get("results", ()):
        MUTATIONS.labels(status=result["status"]).inc()
    return answer


def count_deliveries(counts: dict | None) -> dict | None:
    """Count one push-worker batch's outcomes (sent, retry, failed, gone, expired)."""
    for result, number in (counts or {}).items():
        if number:
            DELIVERIES.labels(result=result).inc(number)
    return counts


class DatabaseCollector:
    """Gauges read from the database at scrape time: the outbox and active devices."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        from server.accounts.models import Device
        from server.extensions import db
        from server.push.models import PENDING, SENDING, PushDelivery

        up = GaugeMetricFamily("booth_database_up", "Whether the scrape could read the database")
        try:
            with self.app.app_context():
                now = int(time.time() * 1000)
                depth = dict(
                    db.session.execute(
                        select(PushDelivery.status, func.count())
                        .where(PushDelivery.status.in_((PENDING, SENDING)))
                        .group_by(PushDelivery.status)
                    ).all()
                )
                active = {
                    name: db.session.scalar(
                        select(func.count())
                        .select_from(Device)
                        .where(Device.revoked_at.is_(None))
                        .where(Device.last_seen_at >= now - seconds * 1000)
                    )
                    for name, seconds in ACTIVE_WINDOWS.items()
                }
                db.session.remove()
        except Exception as exc:  # a scrape must answer even with the database gone
            log.warning("Metrics could not read the database: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        outbox = GaugeMetricFamily(
            "booth_push_outbox_depth", "Meeting alerts waiting to be delivered", labels=["status"]
        )
        for status in (PENDING, SENDING):
            outbox.add_metric([status], depth.get(status, 0))
        yield outbox
        devices = GaugeMetricFamily(
            "booth_active_devices",
            "Unrevoked devices that logged in, refreshed or pushed within the window",
            labels=["window"],
        )
        for name, number in active.items():
            devices.add_metric([name], number)
        yield devices


class ThisProcess:
    """The counters of this one process (no multiprocess directory: `make run`, tests)."""

    def collect(self):
        return REGISTRY.collect()


def scrape(app) -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(ThisProcess())
    registry.register(DatabaseCollector(app))
    return generate_latest(registry)


def allowed(address: str | None, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)


@bp.get("/metrics")
def metrics():
    """Prometheus metrics of this node, for the monitoring server's address only."""
    # Behind nginx (PROXY_HOPS=1) this is the real client, as nginx saw it.
    if not allowed(request.remote_addr, current_app.config["METRICS_ALLOWED"]):
        raise ApiError("forbidden", "Metrics are served to the monitoring addresses only.", 403)
    return Response(scrape(current_app._get_current_object()), mimetype=CONTENT_TYPE_LATEST)


def init_app(app):
    for network in app.config["METRICS_ALLOWED"]:
        ipaddress.ip_network(network, strict=False)  # a typo fails at start, not at a scrape
    app.register_blueprint(bp)

    @app.after_request
    def _count(response):
        started = g.get("request_started")
        if started is None or request.endpoint == "monitoring.metrics":
            return response
        route, status = route_of(), str(response.status_code)
        REQUESTS.labels(route=route, method=request.method, status=status).inc()
        LATENCY.labels(route=route, method=request.method).observe(time.perf_counter() - started)
        counter = SYNC_COUNTERS.get(request.endpoint)
        if counter is not None:
            counter.labels(status=status).inc()
        return response
