"""Messages klantreis sends out: e-mail through the shop's SMTP server, JSON webhooks."""

from klantreis.act.notify.smtp import SmtpConfig, send_email
from klantreis.act.notify.webhook import WebhookError, post_webhook

__all__ = ["SmtpConfig", "WebhookError", "post_webhook", "send_email"]
