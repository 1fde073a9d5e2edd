from tests.server.push.fixtures import clock, push_config, standin, worker  # noqa: F401
