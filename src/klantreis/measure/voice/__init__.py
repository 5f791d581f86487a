"""Voice of the customer: what customers write (reviews, tickets, chats, survey comments).

Every text gets a language, a sentiment (-1..+1 with a label) and topics tied to journey phases,
offline: lexicons that ship inside PyPI packages, a keyword lexicon of our own, and a model trained
on the shop's own rated reviews when it has enough of them.
"""

from klantreis.measure.voice.scoring import TextScore, VoiceScorer

__all__ = ["TextScore", "VoiceScorer"]
