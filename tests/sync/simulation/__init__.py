"""A simulated world of phones that edit shared records offline and sync (Jepsen style),
over a transport: the HTTP server (tests/server/syncing/simulation.py) or the engine
alone with an in-memory store (tests/sync/simulation/memory.py)."""
