"""The rehearsal stack for tests/prod: started once for the session. With CI=true a missing
piece (nginx, PgBouncer, PostgreSQL's binaries, Chromium) fails, never skips."""

import base64
import hashlib
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import sync_playwright

from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS
from tests.prod.client import Https
from tests.prod.processes import MissingPiece
from tests.prod.stack import ProductionStack


def missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _empty_database():
    """The unit tests' database is not used here: the stack has its own."""
    yield


@pytest.fixture(scope="session")
def stack():
    try:
        with ProductionStack() as running:
            yield running
    except MissingPiece as exc:
        missing(str(exc))


@pytest.fixture
def https(stack):
    return Https(stack)


def spki_pin(certificate: Path) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)): what Chromium's SPKI allow-list names."""
    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    der = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.fixture(scope="session")
def browser(stack):
    """Chromium trusting the rehearsal's certificate by its key (a service worker does not
    register on a page whose certificate Chromium merely ignores)."""
    if not os.path.exists(CHROMIUM):
        missing(f"Chromium is not at {CHROMIUM}: apt-get install chromium")
    trust = f"--ignore-certificate-errors-spki-list={spki_pin(stack.ca_path)}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, trust])
        yield browser
        browser.close()
