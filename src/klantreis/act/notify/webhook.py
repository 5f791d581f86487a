"""JSON webhooks (alerts, audience entries), retried on network errors and 5xx answers."""

from __future__ import annotations

import time
from typing import Any

import httpx


class WebhookError(RuntimeError):
    """The receiver could not be reached or kept answering with an error."""


def post_webhook(
    url: str, payload: dict[str, Any], *, timeout: float = 5.0, retries: int = 2
) -> int:
    """POST `payload` as JSON; returns the receiver's status code (2xx/4xx are final)."""
    if not url.startswith(("http://", "https://")):
        raise WebhookError(f"webhook url must be http(s): {url!r}")
    last: str = ""
    for attempt in range(retries + 1):
        try:
            response = httpx.post(url, json=payload, timeout=timeout)
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code < 500:
                return response.status_code
            last = f"HTTP {response.status_code}"
        if attempt < retries:
            time.sleep(0.2 * 2**attempt)
    raise WebhookError(f"webhook {url} failed after {retries + 1} attempts: {last}")
