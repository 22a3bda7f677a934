"""Report delivery over real SMTP (aiosmtpd on loopback): security modes, retries, the delivery log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncd.delivery import DeliveryUncertain, send_report, slot_message_id
from syncd.errors import DeliveryError
from syncd.reports.report import Report
from syncd.settings import Settings
from syncd.store import Store
from syncd.store import _daemon as ledger
from tests.smtp_sink import Sink, SmtpServer, free_port, self_signed

# implicit TLS: aiosmtpd cannot tell the socket is already encrypted, so it warns about AUTH without TLS
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def make_report(title: str = "Executive status") -> Report:
    return Report(kind="status", audience="executive", title=title, subject=f"[syncd] {title}",
                  markdown=f"# {title}\n\n![burnup](./burnup.png)\n", text=f"{title}\n",
                  html=f'<html><body><h1>{title}</h1><img src="cid:burnup"></body></html>',
                  charts={"burnup.png": PNG}, summary={"on_track": 2}, risk_ids=["r1"])


def settings(port: int, **smtp: object) -> Settings:
    return Settings(smtp={"host": "127.0.0.1", "port": port, "security": "none", "sender": "syncd <syncd@acme.test>",
                          "timeout_s": 5, **smtp})


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sink() -> Iterator[tuple[Sink, SmtpServer]]:
    s = Sink()
    with SmtpServer(s) as server:
        yield s, server


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    """A SQLite store: SMTP behaviour does not depend on the database (the ledger SQL is tested on both)."""
    s = Store(f"sqlite:///{tmp_path / 'syncd.db'}")
    s.upgrade()
    yield s
    s.close()


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


def test_plain_delivery_is_multipart_and_logged(db: Store, sink: tuple[Sink, SmtpServer]) -> None:
    s, server = sink
    d = send_report(settings(server.port), db, make_report(), ["ceo@acme.test", "CFO <cfo@acme.test>"], now=NOW)
    [got] = s.messages
    assert got.recipients == ["ceo@acme.test", "cfo@acme.test"] and got.sender == "syncd@acme.test"
    msg = got.message
    assert msg["Message-ID"] == d.message_id and msg["Subject"] == "[syncd] Executive status"
    assert msg.get_content_type() == "multipart/alternative"
    kinds = [p.get_content_type() for p in msg.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png"]
    [row] = ledger.delivery_rows(db)
    assert (row["status"], row["job"], row["kind"], row["audience"], row["format"]) == ("sent", None, "status", "executive", "eml")
    assert row["recipients"] == ["ceo@acme.test", "CFO <cfo@acme.test>"]


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_modes_with_login(db: Store, cert: tuple[Path, Path], security: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))  # trust our self-signed server certificate
    s = Sink()
    with SmtpServer(s, security=security, cert=cert, users={"mailer": "s3cret-pass"}) as server:
        cfg = settings(server.port, security=security, username="mailer", password="s3cret-pass")
        send_report(cfg, db, make_report(), ["ceo@acme.test"], now=NOW)
        assert len(s.messages) == 1 and s.logins and s.logins[0][0] == "mailer"
        bad = settings(server.port, security=security, username="mailer", password="wrong-pass")
        with pytest.raises(DeliveryError) as err:
            send_report(bad, db, make_report(), ["ceo@acme.test"], now=NOW)
        assert "login refused" in str(err.value) and "wrong-pass" not in str(err.value)
        assert "\n" not in str(err.value)


def test_starttls_against_a_plain_server_fails_clearly(db: Store, sink: tuple[Sink, SmtpServer]) -> None:
    _, server = sink
    with pytest.raises(DeliveryError, match="smtp.security"):
        send_report(settings(server.port, security="starttls"), db, make_report(), ["a@acme.test"], now=NOW)


def test_transient_refusal_is_retried_and_sent_once(db: Store, sink: tuple[Sink, SmtpServer]) -> None:
    s, server = sink
    answers = iter(["451 4.3.0 try again later"])
    s.on_rcpt = lambda addr: next(answers, None)
    waits = Waits()
    send_report(settings(server.port), db, make_report(), ["ceo@acme.test"], now=NOW, sleep=waits)
    assert len(s.messages) == 1 and len(waits) == 1 and s.rcpt_calls == 2


def test_permanent_refusal_fails_at_once_and_is_logged(db: Store, sink: tuple[Sink, SmtpServer]) -> None:
    s, server = sink
    s.on_rcpt = lambda addr: "550 5.1.1 no such user"
    waits = Waits()
    with pytest.raises(DeliveryError) as err:
        send_report(settings(server.port), db, make_report(), ["nobody@acme.test"], now=NOW, sleep=waits)
    assert "550" in str(err.value) and waits == [] and s.messages == []
    assert ledger.delivery_rows(db)[0]["status"] == "failed"


def test_some_recipients_refused_still_sends_to_the_others(db: Store, sink: tuple[Sink, SmtpServer]) -> None:
    s, server = sink
    s.on_rcpt = lambda addr: "550 no such user" if addr.startswith("gone") else None
    d = send_report(settings(server.port), db, make_report(), ["ceo@acme.test", "gone@acme.test"], now=NOW)
    assert s.messages[0].recipients == ["ceo@acme.test"] and list(d.refused) == ["gone@acme.test"]
    assert "gone@acme.test" in ledger.delivery_rows(db)[0]["error"]


def test_unreachable_server_gives_up_after_the_policy(db: Store) -> None:
    waits = Waits()
    cfg = settings(free_port(), retry={"attempts": 3, "max_wait_s": 1, "total_s": 10})
    with pytest.raises(DeliveryError, match=r"smtp 127\.0\.0\.1:\d+ \(none\): ConnectionRefusedError"):
        send_report(cfg, db, make_report(), ["ceo@acme.test"], now=NOW, sleep=waits)
    assert len(waits) == 2


def test_connection_lost_during_data_is_uncertain_and_not_retried(store: Store, sink: tuple[Sink, SmtpServer]) -> None:
    s, server = sink
    s.on_data = lambda got: "drop"
    ledger.claim_slot(store, "exec", NOW, owner="r1", now=NOW, lease_s=60)
    waits = Waits()
    with pytest.raises(DeliveryUncertain):
        send_report(settings(server.port), store, make_report(), ["ceo@acme.test"], job="exec", slot_at=NOW,
                    now=NOW, owner="r1", sleep=waits)
    assert s.data_calls == 1 and waits == []
    assert ledger.slot_rows(store, job="exec")[0].state == "uncertain"
    assert ledger.delivery_rows(store)[0]["status"] == "uncertain"


def test_scheduled_slot_is_settled_with_its_delivery(store: Store, sink: tuple[Sink, SmtpServer]) -> None:
    s, server = sink
    ledger.claim_slot(store, "exec", NOW, owner="r1", now=NOW, lease_s=60)
    cfg = settings(server.port)
    d = send_report(cfg, store, make_report(), ["ceo@acme.test"], job="exec", slot_at=NOW, now=NOW, owner="r1")
    assert d.message_id == slot_message_id("exec", NOW, cfg.smtp.sender)
    assert d.message_id.endswith("@acme.test>")
    assert s.messages[0].message["X-Syncd-Slot"] == "exec 2026-03-02T09:00:00+00:00"
    [slot] = ledger.slot_rows(store, job="exec")
    assert slot.state == "done" and d.message_id in (slot.detail or "")
    # a replica that lost its claim does not send
    with pytest.raises(DeliveryError, match="no longer held"):
        send_report(cfg, store, make_report(), ["ceo@acme.test"], job="exec", slot_at=NOW, now=NOW, owner="r2")
    assert len(s.messages) == 1


def test_md_and_html_formats(db: Store, sink: tuple[Sink, SmtpServer]) -> None:
    s, server = sink
    cfg = settings(server.port)
    send_report(cfg, db, make_report(), ["a@acme.test"], now=NOW, fmt="md")
    send_report(cfg, db, make_report(), ["a@acme.test"], now=NOW, fmt="html")
    md, html = (m.message for m in s.messages)
    assert [p.get_content_type() for p in md.walk()] == ["multipart/mixed", "text/plain", "image/png"]
    assert "# Executive status" in md.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    files = [p.get_filename() for p in html.iter_attachments()]  # type: ignore[attr-defined]
    assert files == ["status-executive.html"]


def test_untrusted_text_never_reaches_a_header(db: Store, sink: tuple[Sink, SmtpServer]) -> None:
    s, server = sink
    cfg = settings(server.port)
    with pytest.raises(DeliveryError, match="invalid email address"):
        send_report(cfg, db, make_report(), ["ceo@acme.test\r\nBcc: all@evil.test"], now=NOW)
    send_report(cfg, db, make_report("Q3\r\nBcc: all@evil.test"), ["ceo@acme.test"], now=NOW)
    msg = s.messages[0].message
    assert msg["Bcc"] is None and "\n" not in str(msg["Subject"])
    assert s.messages[0].recipients == ["ceo@acme.test"]


def test_no_recipients_is_one_clear_line(db: Store) -> None:
    with pytest.raises(DeliveryError, match=r"no recipients \(set reports\.recipients\.executive"):
        send_report(settings(25), db, make_report(), [], now=NOW)


# -- every SMTP reply code is checked (issue 19, item 1) --------------------------------------------


def test_temporary_refusal_after_data_is_retried_then_kept_once(db: Store, sink: tuple[Sink, SmtpServer]) -> None:
    s, server = sink
    answers = iter(["451 4.3.0 try again later"])
    s.on_data = lambda got: next(answers, None)
    waits = Waits()
    d = send_report(settings(server.port), db, make_report(), ["ceo@acme.test"], now=NOW, sleep=waits)
    # the server saw the body twice, kept it once (the sink keeps nothing it answered 451 to)
    assert s.data_calls == 2 and len(s.messages) == 1 and len(waits) == 1
    assert s.messages[0].message["Message-ID"] == d.message_id
    [row] = ledger.delivery_rows(db)
    assert row["status"] == "sent"


def test_permanent_refusal_after_data_fails_naming_the_answer(store: Store, sink: tuple[Sink, SmtpServer]) -> None:
    s, server = sink
    s.on_data = lambda got: "552 5.3.4 message too large"
    ledger.claim_slot(store, "exec", NOW, owner="r1", now=NOW, lease_s=60)
    waits = Waits()
    with pytest.raises(DeliveryError) as err:
        send_report(settings(server.port), store, make_report(), ["ceo@acme.test"], job="exec", slot_at=NOW,
                    now=NOW, owner="r1", sleep=waits)
    line = str(err.value)
    assert "\n" not in line and "552 5.3.4 message too large" in line and "after DATA" in line
    assert s.messages == [] and waits == [] and s.data_calls == 1
    assert ledger.delivery_rows(store)[0]["status"] == "failed"
    [slot] = ledger.slot_rows(store, job="exec")
    assert slot.state == "failed" and "552" in (slot.detail or "")


def test_temporary_refusal_after_data_that_persists_fails_not_sent(db: Store, sink: tuple[Sink, SmtpServer]) -> None:
    s, server = sink
    s.on_data = lambda got: "451 4.3.0 try again later"
    waits = Waits()
    cfg = settings(server.port, retry={"attempts": 3, "max_wait_s": 1, "total_s": 10})
    with pytest.raises(DeliveryError, match="451 4.3.0 try again later"):
        send_report(cfg, db, make_report(), ["ceo@acme.test"], now=NOW, sleep=waits)
    assert s.data_calls == 3 and len(waits) == 2 and s.messages == []
    assert [r["status"] for r in ledger.delivery_rows(db)] == ["failed"]


def test_sender_refused_names_mail_from(db: Store, sink: tuple[Sink, SmtpServer]) -> None:
    s, server = sink

    async def refuse_mail(server_: object, session: object, envelope: object, address: str, options: object) -> str:
        return "553 5.7.1 sender not allowed"

    s.handle_MAIL = refuse_mail  # type: ignore[attr-defined]
    with pytest.raises(DeliveryError, match=r"MAIL FROM syncd@acme\.test: 553 5\.7\.1 sender not allowed"):
        send_report(settings(server.port), db, make_report(), ["ceo@acme.test"], now=NOW, sleep=Waits())
    assert s.messages == [] and s.rcpt_calls == 0


def test_one_deferred_recipient_retries_the_whole_message(db: Store, sink: tuple[Sink, SmtpServer]) -> None:
    s, server = sink
    answers = iter(["450 4.2.1 mailbox busy"])
    s.on_rcpt = lambda addr: next(answers, None) if addr.startswith("cfo") else None
    waits = Waits()
    d = send_report(settings(server.port), db, make_report(), ["ceo@acme.test", "cfo@acme.test"], now=NOW, sleep=waits)
    # first attempt: ceo accepted, cfo deferred -> nothing sent; second: both in one message
    assert [m.recipients for m in s.messages] == [["ceo@acme.test", "cfo@acme.test"]]
    assert len(waits) == 1 and d.refused == {}


def test_refused_recipient_with_others_accepted_is_logged(db: Store, sink: tuple[Sink, SmtpServer]) -> None:
    s, server = sink
    s.on_rcpt = lambda addr: "550 5.1.1 no such user" if addr.startswith("gone") else None
    send_report(settings(server.port), db, make_report(), ["ceo@acme.test", "gone@acme.test"], now=NOW)
    [row] = ledger.delivery_rows(db)
    assert row["status"] == "sent" and row["error"] == "refused gone@acme.test: 550 5.1.1 no such user"
