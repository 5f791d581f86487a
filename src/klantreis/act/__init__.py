"""Outbound actions: what klantreis sends out on what it measured (alerts, entry webhooks,
review requests) and how (e-mail, webhooks). Above measure, below present."""
