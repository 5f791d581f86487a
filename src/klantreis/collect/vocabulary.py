"""The event vocabulary: Segment's spec names, extended past the order.

Names before the order follow the Segment E-commerce v2, Email and Live Chat specs; names after
it (shipping, delivery, returns, support, payment failure, reviews, surveys, consent, web
vitals) and the channels off the website (store visits, phone calls, marketplace messages,
social mentions) are klantreis' extension. `docs/events.md` documents every name and its
properties; a test keeps the two in step. Custom names are allowed: the journey definition maps
them to phases.
"""

from __future__ import annotations

from dataclasses import dataclass

CHANNELS = (
    "web",
    "app",
    "e-mail",
    "phone",
    "chat",
    "social",
    "marketplace",
    "store",
    "carrier",
    "review site",
)


@dataclass(frozen=True)
class EventSpec:
    name: str
    channel: str
    """Channel assumed when the event does not say (`properties.channel` or context)."""
    properties: tuple[str, ...] = ()
    """The properties klantreis reads; others are kept as sent."""


def _specs(channel: str, *items: tuple[str, tuple[str, ...]]) -> list[EventSpec]:
    return [EventSpec(name, channel, props) for name, props in items]


_PRODUCT = ("product_id", "sku", "category", "name", "brand", "price", "quantity")
_ORDER = ("order_id",)

EVENTS: dict[str, EventSpec] = {
    spec.name: spec
    for spec in [
        *_specs(
            "web",
            ("Page Viewed", ("path", "url", "referrer", "title")),
            ("Screen Viewed", ("name",)),
            ("Products Searched", ("query", "results")),
            ("Product List Viewed", ("list_id", "category")),
            ("Product List Filtered", ("list_id", "filters", "sorts", "results")),
            ("Product Clicked", _PRODUCT),
            ("Product Viewed", _PRODUCT),
            ("Product Added", _PRODUCT),
            ("Product Removed", _PRODUCT),
            ("Product Added to Wishlist", _PRODUCT),
            ("Product Shared", _PRODUCT),
            ("Product Reviewed", ("product_id", "review_id", "review_body", "rating")),
            ("Cart Viewed", ("cart_id", "products")),
            ("Promotion Viewed", ("promotion_id", "name")),
            ("Promotion Clicked", ("promotion_id", "name")),
            ("Coupon Applied", ("order_id", "coupon_id")),
            ("Checkout Started", ("order_id", "value", "revenue", "currency", "products")),
            ("Checkout Step Viewed", ("checkout_id", "step")),
            ("Checkout Step Completed", ("checkout_id", "step")),
            ("Payment Info Entered", ("checkout_id", "order_id", "payment_method")),
            ("Payment Failed", ("checkout_id", "order_id", "payment_method", "reason")),
            (
                "Order Completed",
                (
                    "order_id",
                    "total",
                    "revenue",
                    "shipping",
                    "currency",
                    "products",
                    "promised_delivery_date",
                    "payment_method",
                    "region",
                ),
            ),
            ("Order Updated", _ORDER),
            ("Order Cancelled", ("order_id", "reason")),
            ("Web Vitals Measured", ("path", "lcp", "fcp", "inp", "cls", "ttfb")),
            ("Consent Updated", ("marketing", "analytics")),
            ("Application Installed", ("version",)),
            ("Application Opened", ("version",)),
        ),
        *_specs(
            "web",
            ("Payment Captured", ("order_id", "amount", "payment_method", "installments")),
            ("Order Approved", _ORDER),
        ),
        *_specs(
            "e-mail",
            ("Order Confirmation Sent", _ORDER),
            ("Shipping Update Sent", ("order_id", "status")),
            ("Review Request Sent", ("order_id", "survey_id")),
            (
                "Case Message Sent",
                ("case_id", "kind", "message", "via", "order_id", "expectation_id"),
            ),
            ("Email Delivered", ("email_id", "email_subject", "campaign_id", "kind")),
            ("Email Opened", ("email_id", "email_subject", "campaign_id", "kind")),
            ("Email Link Clicked", ("email_id", "link_url", "campaign_id", "kind")),
            ("Email Bounced", ("email_id", "campaign_id")),
            ("Email Marked as Spam", ("email_id", "campaign_id")),
            ("Unsubscribed", ("list_id", "campaign_id")),
        ),
        *_specs(
            "carrier",
            ("Order Shipped", ("order_id", "carrier", "tracking_id", "promised_delivery_date")),
            ("Shipment Updated", ("order_id", "carrier", "status")),
            ("Order Delivered", ("order_id", "carrier", "promised_delivery_date")),
            ("Delivery Failed", ("order_id", "carrier", "reason")),
        ),
        *_specs(
            "web",
            ("Return Requested", ("order_id", "return_id", "reason", "products")),
            ("Return Approved", ("order_id", "return_id")),
            ("Return Rejected", ("order_id", "return_id", "reason")),
            ("Return Received", ("order_id", "return_id")),
            ("Order Refunded", ("order_id", "return_id", "total", "currency")),
        ),
        *_specs(
            "e-mail",
            ("Ticket Created", ("ticket_id", "order_id", "topic", "subject", "text")),
            ("Ticket Replied", ("ticket_id", "author", "text")),
            ("Ticket Resolved", ("ticket_id",)),
            ("Ticket Reopened", ("ticket_id",)),
        ),
        *_specs(
            "chat",
            ("Live Chat Conversation Started", ("conversation_id", "agent_id")),
            ("Live Chat Message Sent", ("conversation_id", "message_body")),
            ("Live Chat Message Received", ("conversation_id", "message_body", "agent_username")),
            ("Live Chat Conversation Ended", ("conversation_id", "conversation_duration")),
        ),
        *_specs(
            "review site",
            (
                "Review Submitted",
                ("review_id", "order_id", "rating", "title", "text", "language", "platform"),
            ),
        ),
        *_specs(
            "social", ("Social Mention", ("platform", "text", "url", "author", "order_id", "kind"))
        ),
        *_specs(
            "store",
            ("Store Visited", ("store_id", "purpose", "order_id", "text")),
        ),
        *_specs(
            "phone",
            ("Phone Call Received", ("call_id", "topic", "order_id", "duration", "text")),
            ("Phone Call Made", ("call_id", "topic", "order_id", "duration", "text")),
        ),
        *_specs(
            "marketplace",
            ("Marketplace Message Received", ("marketplace", "topic", "order_id", "text")),
        ),
        *_specs(
            "web",
            ("Survey Answered", ("survey_id", "kind", "score", "comment", "order_id", "phase")),
        ),
    ]
}

BACK_OFFICE_EVENTS = (
    "Payment Captured",
    "Order Approved",
    "Order Updated",
    "Order Cancelled",
    "Return Approved",
    "Return Rejected",
    "Return Received",
    "Order Refunded",
)
"""Events the shop's own systems record about an order, not the customer on a device: they
belong to the channel of the order (an app order's captured payment is an app payment)."""

TYPE_EVENT_NAMES = {
    "page": "Page Viewed",
    "screen": "Screen Viewed",
    "identify": "Identify",
    "group": "Group",
    "alias": "Alias",
}
"""Non-track messages get an event name too, so every analysis can select by `event`."""

NON_JOURNEY_TYPES = ("identify", "group", "alias")
"""Message types that describe a person rather than something they did."""


def default_channel(event: str | None) -> str | None:
    spec = EVENTS.get(event or "")
    return spec.channel if spec else None
