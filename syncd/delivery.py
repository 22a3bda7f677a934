"""Report delivery by email: SMTP with STARTTLS, implicit TLS or none; the shared retry policy; a log row.

Exactly-once around the one step that cannot be made atomic. A message is handed to SMTP in
phases: connect, (STARTTLS,) login, MAIL FROM, RCPT TO, then DATA. Every failure before DATA leaves
nothing at the server, so it is retried (transient errors) or reported (permanent ones) and a
scheduled slot stays safe to run again. Just before DATA the delivery is logged as `sending` with
its Message-ID, and the slot moves to `sending`, in one transaction. If the connection dies after
that without the server's answer, or the process dies before it records `sent`, nobody can know
whether the server kept the message: such a delivery becomes `uncertain`. By default
(`delivery.uncertain = "hold"`) it is never re-sent automatically: at most once, because a
duplicate stakeholder email is worse than one missing report, which the log, metrics, a warning
and `syncd deliveries --uncertain` make visible; `syncd deliveries resend SLOT` sends it again by
hand (syncd/resend.py). With `"resend"` the daemon sends it again itself (at least once), within the
slot's grace period and at most scheduler.MAX_RESENDS times (`Scheduler.reclaim_uncertain`). Either
way the resend carries the slot's Message-ID, which mail clients and Gmail use to drop the duplicate.

Every reply is checked: MAIL FROM, RCPT TO per recipient, DATA, and the final answer after the
body (which smtplib returns instead of raising). Only a 250 there means the server kept the
message. A 4xx anywhere is temporary: the whole conversation is retried with back-off (a deferred
recipient too, so nobody silently misses the report); a 5xx fails the delivery with one line
naming the server's answer. Some recipients refused with 5xx while others are accepted: the
message goes to the others and the refusals are logged.

Scheduled messages get a Message-ID derived from their slot (`slot_message_id`), the same on every
attempt, so a resend threads with (and is de-duplicated against) the original.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import getaddresses, parseaddr
from typing import TYPE_CHECKING

from syncd.connectors._retry import RetryDecision, call_with_retry
from syncd.errors import DeliveryError, ReportError, SourceError, SyncdError
from syncd.settings import Settings
from syncd.settings_sections import SmtpSettings
from syncd.store import Store
from syncd.store import _daemon as ledger

if TYPE_CHECKING:
    from syncd.reports.report import Report

log = logging.getLogger("syncd.delivery")
FORMATS = ("eml", "html", "md")


class DeliveryUncertain(DeliveryError):
    """The connection ended during DATA: the server may or may not have kept the message."""


class FinalAnswerRefused(smtplib.SMTPDataError):
    """The server answered the message body with something other than 250: it kept nothing."""


@dataclass(frozen=True)
class Delivery:
    """One delivery as logged: what went to whom, and how it ended."""

    id: int
    kind: str
    audience: str | None
    format: str
    recipients: list[str]
    subject: str
    message_id: str
    status: str  # sent (possibly with some recipients refused)
    job: str | None = None
    slot_at: datetime | None = None
    refused: dict[str, str] = field(default_factory=dict)


# -- SMTP -----------------------------------------------------------------------------------------


def _one_line(value: object) -> str:
    text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())[:300]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        first = next(iter(exc.recipients.items()), None)
        if first is None:
            return "recipients refused"
        what = "deferred" if 400 <= first[1][0] < 500 else "refused"
        more = f" and {len(exc.recipients) - 1} more" if len(exc.recipients) > 1 else ""
        return f"recipient {what}: RCPT TO {first[0]}: {first[1][0]} {_one_line(first[1][1])}{more}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login refused ({exc.smtp_code} {_one_line(exc.smtp_error)}); check smtp.username and smtp.password"
    if isinstance(exc, FinalAnswerRefused):
        return f"server refused the message after DATA: {exc.smtp_code} {_one_line(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"server refused MAIL FROM {exc.sender}: {exc.smtp_code} {_one_line(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"server answered {exc.smtp_code} {_one_line(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"server does not support it: {_one_line(exc)} (check smtp.security)"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {_one_line(getattr(exc, 'reason', None) or exc)} (check smtp.security and smtp.port)"
    return f"{exc.__class__.__name__}: {_one_line(exc)}"


def _classify(exc: BaseException) -> RetryDecision | None:
    """Transient: refused or dropped connections, timeouts, 4xx answers. Everything else is final."""
    if isinstance(exc, SyncdError | ssl.SSLError | smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError):
        return None
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return RetryDecision(reason="recipients deferred") if codes and all(400 <= c < 500 for c in codes) else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return RetryDecision(reason=f"SMTP {exc.smtp_code}") if 400 <= exc.smtp_code < 500 else None
    if isinstance(exc, OSError):  # connection refused/reset, timeouts, DNS, server disconnected
        return RetryDecision(reason=exc.__class__.__name__)
    return None


def _transmit(smtp: SmtpSettings, msg: EmailMessage, envelope: Sequence[str],
              before_data: Callable[[], None] | None) -> dict[str, str]:
    """One SMTP conversation; returns the recipients the server refused (when some were accepted)."""
    context = ssl.create_default_context() if smtp.security != "none" else None  # loading CAs costs ~50 ms
    conn: smtplib.SMTP
    if smtp.security == "tls":
        conn = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_s, context=context)
    else:
        conn = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
    try:
        conn.ehlo()
        if smtp.security == "starttls":
            conn.starttls(context=context)
            conn.ehlo()
        if smtp.username:
            conn.login(smtp.username, smtp.password.get_secret_value() if smtp.password else "")
        sender = parseaddr(smtp.sender)[1]
        code, answer = conn.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, answer, sender)
        refused: dict[str, str] = {}
        raw_refused: dict[str, tuple[int, bytes]] = {}
        for rcpt in envelope:
            code, answer = conn.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = f"{code} {_one_line(answer)}"
                raw_refused[rcpt] = (code, answer)
        deferred = {r: a for r, a in raw_refused.items() if 400 <= a[0] < 500}
        if deferred or len(refused) == len(envelope):
            # a recipient deferred (4xx) would silently miss the report if we sent to the others now:
            # nothing has been handed over yet, so the whole transaction is retried (RFC 5321 4.2.5)
            raise smtplib.SMTPRecipientsRefused(deferred or raw_refused)  # type: ignore[arg-type]
        if before_data is not None:
            before_data()
        try:
            # smtplib raises on the answer to DATA itself but *returns* the answer after the body:
            # only a 250 there means the server took responsibility for the message (RFC 5321 4.1.1.4)
            code, answer = conn.data(msg.as_bytes(policy=SMTP_POLICY))
        except smtplib.SMTPDataError:
            raise  # the server answered: not accepted
        except OSError as exc:  # SMTPServerDisconnected is one
            raise DeliveryUncertain(f"smtp {smtp.host}:{smtp.port}: connection lost during DATA ({_describe(exc)}); "
                                    f"{msg['Message-ID']} may have been delivered (uncertain)") from None
        if code != 250:
            raise FinalAnswerRefused(code, answer)
        return refused
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()


def send_email(smtp: SmtpSettings, msg: EmailMessage, *, recipients: Sequence[str] | None = None,
               before_data: Callable[[], None] | None = None,
               sleep: Callable[[float], None] = time.sleep) -> dict[str, str]:
    """Send one message under the shared retry policy; return refused recipients (address -> answer).

    The envelope is `recipients`, or the message's To and Cc. `before_data` runs right before each
    DATA command (record the hand-over there). Raises DeliveryError with one line when it gives up,
    DeliveryUncertain when the server may have the message.
    """
    envelope = list(recipients) if recipients else [a for _, a in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", []))]
    if not envelope:
        raise DeliveryError("delivery: no recipients")
    where = f"{smtp.host}:{smtp.port}"
    last: list[BaseException] = []

    def once() -> dict[str, str]:
        try:
            return _transmit(smtp, msg, envelope, before_data)
        except BaseException as exc:
            last[:] = [exc]
            raise

    try:
        return call_with_retry(once, policy=smtp.retry, source="smtp", classify=_classify, describe=_describe,
                               url=where, sleep=sleep)
    except SourceError as exc:
        cause = last[0] if last else None
        if isinstance(cause, SyncdError):
            raise cause from None
        detail = _describe(cause) if cause is not None else str(exc)
        raise DeliveryError(f"smtp {where} ({smtp.security}): {detail}") from None


# -- the message ----------------------------------------------------------------------------------


def slot_message_id(job: str, slot_at: datetime, sender: str) -> str:
    """The Message-ID of a scheduled slot's message: the same on every attempt."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "syncd.local"
    digest = hashlib.sha256(f"{job}|{slot_at.astimezone(UTC).isoformat()}".encode()).hexdigest()[:24]
    return f"<syncd.{digest}@{domain}>"


def build_message(report: Report, fmt: str, *, sender: str, recipients: Sequence[str], date: datetime,
                  message_id: str | None = None) -> EmailMessage:
    """The email of a report in a delivery format.

    eml: text and HTML alternatives with inline charts; html: the same plus the HTML report as an
    attached file; md: a plain-text email whose body is the Markdown, charts attached as PNG files.
    Every format attaches the report's own files (`Report.files`), except those the report links on its site.
    """
    from syncd.reports.email import attach_files, attach_full_report, report_email

    if fmt not in FORMATS:
        raise DeliveryError(f"delivery: unknown format {fmt!r} (use one of {', '.join(FORMATS)})")
    domain = parseaddr(sender)[1].rpartition("@")[2] or "syncd.local"
    try:
        msg = report_email(report, sender=sender, recipients=list(recipients), date=date, message_id_domain=domain)
    except ReportError as exc:
        raise DeliveryError(f"delivery: {exc}") from None
    if message_id is not None:
        msg.replace_header("Message-ID", message_id)
    if fmt == "html":
        attach_full_report(msg, report)
    elif fmt == "md":
        msg.clear_content()
        msg.set_content(report.markdown, subtype="plain", charset="utf-8", cte="quoted-printable")
        for filename, png in report.charts.items():
            msg.add_attachment(png, maintype="image", subtype="png", filename=filename)
        attach_files(msg, report)
    return msg


def send_report(settings: Settings, store: Store, report: Report, recipients: list[str], *,
                job: str | None = None, slot_at: datetime | None = None, now: datetime | None = None,
                fmt: str = "eml", owner: str | None = None,
                sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """Email a report to `recipients` and log the delivery; return it, or raise DeliveryError (one line).

    With `job` and `slot_at` (a scheduled slot held by replica `owner`) the slot is settled in the
    same transactions as the log: `sending` before DATA, then `done`, `failed` or `uncertain`.
    """
    from syncd.reports.render.escape import header_text

    now = now or datetime.now(UTC)
    recipients = list(dict.fromkeys(r.strip() for r in recipients if r.strip()))
    if not recipients:
        audience = report.audience or "-"
        raise DeliveryError(f"report {report.kind}/{audience}: no recipients (set reports.recipients.{audience} "
                            "or the schedule's recipients, or pass --to)")
    scheduled = job is not None and slot_at is not None
    message_id = slot_message_id(job, slot_at, settings.smtp.sender) if job and slot_at else None
    msg = build_message(report, fmt, sender=settings.smtp.sender, recipients=recipients, date=now, message_id=message_id)
    if job and slot_at:
        msg["X-Syncd-Slot"] = header_text(f"{job} {slot_at.astimezone(UTC).isoformat()}", 200)
    subject, msg_id = str(msg["Subject"]), str(msg["Message-ID"])
    row = {"at": now, "job": job, "slot_at": slot_at, "kind": report.kind, "audience": report.audience,
           "format": fmt, "recipients": recipients, "subject": subject, "message_id": msg_id}
    begun: list[int] = []
    lost_claim = DeliveryError(f"slot {job} at {slot_at.isoformat() if slot_at else '-'} is no longer held by "
                               f"replica {owner}; not sent")

    def before_data() -> None:
        if begun:
            return
        delivery_id = ledger.begin_delivery(store, row, owner=owner)
        if delivery_id is None:
            raise lost_claim
        begun.append(delivery_id)

    try:
        refused = send_email(settings.smtp, msg, recipients=recipients, before_data=before_data, sleep=sleep)
    except DeliveryError as exc:
        if exc is lost_claim:
            raise
        status = "uncertain" if isinstance(exc, DeliveryUncertain) else "failed"
        if begun:
            ledger.end_delivery(store, begun[0], status=status, now=now, error=str(exc), owner=owner,
                                slot_state=status if scheduled else None, slot_detail=str(exc))
        else:
            ledger.log_failed_delivery(store, {**row, "error": str(exc)})
            if scheduled and owner and job and slot_at:
                ledger.finish_slot(store, job, slot_at, owner=owner, state="failed", now=now, detail=str(exc))
        raise
    error = "; ".join(f"refused {addr}: {why}" for addr, why in refused.items()) or None
    ledger.end_delivery(store, begun[0], status="sent", now=now, error=error, owner=owner,
                        slot_state="done" if scheduled else None, slot_detail=f"sent {msg_id}")
    if refused:
        log.warning("report %s: %d recipient(s) refused: %s", report.kind, len(refused), error)
    return Delivery(id=begun[0], kind=report.kind, audience=report.audience, format=fmt, recipients=recipients,
                    subject=subject, message_id=msg_id, status="sent", job=job, slot_at=slot_at,
                    refused=refused)
