"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for delivery tests.

Hooks let a test answer or act at each phase: `on_rcpt(address)` may return an SMTP answer to
refuse a recipient; `on_data(envelope)` runs when a message has been fully received (after it is
kept) and may return an answer, or `"drop"` to cut the connection without one; `on_quit()` runs
when the client says QUIT (after the message was accepted).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    """One message as the server accepted it."""

    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data, policy=default_policy)


@dataclass
class Sink:
    """What the server saw, and hooks to steer it."""

    messages: list[Received] = field(default_factory=list)
    rcpt_calls: int = 0
    data_calls: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)
    on_rcpt: Callable[[str], str | None] | None = None
    on_data: Callable[[Received], str | None] | None = None
    on_quit: Callable[[], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        with self.lock:
            self.rcpt_calls += 1
        answer = self.on_rcpt(address) if self.on_rcpt else None
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        got = Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content))
        with self.lock:
            self.data_calls += 1
        answer = self.on_data(got) if self.on_data else None
        if answer and not answer.startswith("2") and answer != "drop":
            return answer
        with self.lock:
            self.messages.append(got)
        if answer == "drop":
            server.transport.close()
            return "250 never seen"
        return "250 Message accepted"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.on_quit:
            self.on_quit()
        return "221 Bye"

    def by_header(self, name: str) -> dict[str, int]:
        """How many messages carry each value of header `name`."""
        out: dict[str, int] = {}
        with self.lock:
            for m in self.messages:
                value = str(m.message[name])
                out[value] = out.get(value, 0) + 1
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class SmtpServer:
    """A running aiosmtpd server: `security` none, starttls (required) or tls (implicit)."""

    def __init__(self, sink: Sink, *, security: str = "none", cert: tuple[Path, Path] | None = None,
                 users: dict[str, str] | None = None) -> None:
        self.sink = sink
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if security != "none":
            assert cert is not None
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            if security == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context)
        if users is not None:
            def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
                ok = isinstance(data, LoginPassword) and users.get(data.login.decode()) == data.password.decode()
                if ok:
                    sink.logins.append((data.login.decode(), mechanism))
                return AuthResult(success=ok, handled=False)

            kwargs.update(authenticator=authenticate, auth_required=True, auth_require_tls=security == "starttls")
        self.controller = Controller(sink, hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
