"""Voice of the customer: what customers write (reviews, tickets, chats, survey comments).

Every text gets a language, a sentiment (-1..+1 with a label) and topics tied to journey phases,
each with the sentiment of the clauses about it, offline: lexicons, rules and review models that
ship with klantreis (day one), a keyword lexicon of our own, and a model trained on the shop's
own rated reviews when it has enough of them.
"""

from klantreis.measure.voice.scoring import TextScore, VoiceScorer

__all__ = ["TextScore", "VoiceScorer"]
