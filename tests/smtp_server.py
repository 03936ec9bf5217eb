"""A real SMTP server for the tests (aiosmtpd on a free loopback port), as a pytest plugin
(conftest's pytest_plugins): the `smtp_server` fixture collects what it receives, can be
stopped and started again on the same port (a server down, then up), and speaks STARTTLS,
SSL and AUTH when asked. `tls_certificate`: a self-signed certificate for 127.0.0.1 that
the client trusts through SSL_CERT_FILE, as an operator's own CA would be.
"""

import asyncio
import dataclasses
import email
import email.policy
import socket
import ssl
import subprocess
import threading

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

HOST = "127.0.0.1"


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class Received:
    mail_from: str
    rcpt_tos: list
    data: bytes
    authenticated: bool
    tls: bool

    @property
    def email(self):
        return email.message_from_bytes(self.data, policy=email.policy.default)


class Handler:
    def __init__(self):
        self.received = []
        self.refused = set()  # recipients answered 550
        self.delay = 0  # seconds before accepting a message: a slow server
        self.data_reply = ""  # e.g. "451 …" or "554 …": the answer to every DATA
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        if self.data_reply:
            return self.data_reply
        with self.lock:
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content or envelope.content,
                    bool(session.authenticated),
                    session.ssl is not None,
                )
            )
        return "250 2.0.0 Message accepted for delivery"


class SmtpServer:
    def __init__(self, certificate):
        self.port = free_port()
        self.handler = Handler()
        self.certificate = certificate
        self.controller = None
        self.credentials = None

    def start(self, starttls=False, ssl_on_connect=False, credentials=None, **options):
        """Listen on self.port; `credentials` (user, password) turns on AUTH."""
        assert self.controller is None
        if starttls:
            options.update(tls_context=self.certificate.server_context(), require_starttls=True)
        if ssl_on_connect:
            options["ssl_context"] = self.certificate.server_context()
        if credentials:
            self.credentials = credentials
            options.update(authenticator=self.authenticate, auth_required=True)
            options.setdefault("auth_require_tls", False)
        self.controller = Controller(self.handler, hostname=HOST, port=self.port, **options)
        self.controller.start()
        return self

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        user, password = self.credentials
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def url(self, scheme="smtp", userinfo="", query=""):
        at = f"{userinfo}@" if userinfo else ""
        return f"{scheme}://{at}{HOST}:{self.port}{'?' + query if query else ''}"

    @property
    def received(self):
        with self.handler.lock:
            return list(self.handler.received)


@dataclasses.dataclass
class Certificate:
    cert: str
    key: str

    def server_context(self):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", f"/CN={HOST}"]
        + ["-addext", f"subjectAltName=IP:{HOST}"],
        check=True,
        capture_output=True,
    )
    return Certificate(str(cert), str(key))


@pytest.fixture
def tls_certificate(tls_files, monkeypatch):
    """The certificate, trusted by ssl.create_default_context() in this test."""
    monkeypatch.setenv("SSL_CERT_FILE", tls_files.cert)
    return tls_files


@pytest.fixture
def smtp_server(tls_files):
    """A stopped server with a port of its own: call .start() (it is stopped after)."""
    server = SmtpServer(tls_files)
    yield server
    server.stop()
