"""Running in production: request ids and JSON logs, Prometheus metrics, and the health check
the load balancer asks."""


def init_app(app):
    from server.monitoring import health, logs, metrics

    logs.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(health.bp)
