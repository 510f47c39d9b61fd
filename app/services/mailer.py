"""Composing emails and handing them to the organisation's SMTP server.

Only the outbox's delivery job (app.jobs.outbox) calls this, outside any request, so
a slow or absent mail server delays email and never the change that caused it.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from app.settings import Settings

SMTP_TIMEOUT_SECONDS = 20.0
IMPLICIT_TLS_PORT = 465


def compose(
    *,
    sender: str,
    to_address: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str | None = None,
) -> EmailMessage:
    """A plain-text email, with an HTML alternative when there is one."""
    message = EmailMessage()
    message["From"] = formataddr(("Ringfence", sender))
    message["To"] = to_address
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    if message_id:
        message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def message_id_for(outbox_id: int, sender: str) -> str:
    """The same id on every attempt, so that a duplicate after a lost reply is recognisable."""
    domain = sender.rsplit("@", 1)[-1] or "localhost"
    return f"<ringfence-outbox-{outbox_id}@{domain}>"


def connect(settings: Settings) -> smtplib.SMTP:
    """An open, authenticated SMTP connection as the settings describe it."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.smtp_port == IMPLICIT_TLS_PORT:
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        smtp.ehlo()
        if settings.smtp_starttls and settings.smtp_port != IMPLICIT_TLS_PORT:
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
    except BaseException:
        close(smtp)
        raise
    return smtp


def close(smtp: smtplib.SMTP | None) -> None:
    """Say goodbye politely, or just drop the socket if the server has gone."""
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def describe_error(exc: BaseException) -> str:
    """One line saying what the mail server (or the way to it) did, kept on the message
    so an administrator can see why an email has not gone."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        ]
        return "recipient refused: " + "; ".join(parts)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return f"{type(exc).__name__}: {exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}"
