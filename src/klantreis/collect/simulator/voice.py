"""Customer and agent texts, composed from a hand-written phrase bank per language.

A review body is opener + core + closer, picked by what it is about (delivery, service,
product, communication, praise) and how it feels (rating 1–2 negative, 3 mixed, 4–5 positive);
each language has several hundred combinations, so voice analysis reads varied, natural text
whose topic and sentiment are known.
"""

from __future__ import annotations

import random
from types import ModuleType

from klantreis.collect.simulator.phrases import da, en, nl

BANKS: dict[str, ModuleType] = {"nl": nl, "en": en, "da": da}


def polarity(rating: int) -> str:
    return "neg" if rating <= 2 else "mixed" if rating == 3 else "pos"


class Voice:
    """Texts in one language."""

    def __init__(self, language: str) -> None:
        if language not in BANKS:
            raise ValueError(f"language: no phrase bank for {language!r}")
        self.bank = BANKS[language]

    def review(
        self, rng: random.Random, topic: str, rating: int, **values: object
    ) -> tuple[str, str]:
        mood = polarity(rating)
        cores = self.bank.REVIEW[topic]
        if mood not in cores:
            mood = "pos" if rating >= 4 else "neg"
            cores = cores if mood in cores else self.bank.REVIEW["product"]
        title = rng.choice(self.bank.TITLES[topic].get(mood) or self.bank.TITLES["product"][mood])
        parts = [
            rng.choice(self.bank.OPENERS[mood]),
            rng.choice(cores[mood]),
            rng.choice(self.bank.CLOSERS[mood]),
        ]
        text = " ".join(part for part in parts if part).format(**values)
        return title.format(**values), text

    def ticket(self, rng: random.Random, topic: str, **values: object) -> tuple[str, str]:
        subjects, texts = self.bank.TICKETS[topic]
        return rng.choice(subjects).format(**values), rng.choice(texts).format(**values)

    def agent_reply(self, rng: random.Random, topic: str, **values: object) -> str:
        body = rng.choice(self.bank.AGENT[topic])
        return f"{rng.choice(self.bank.GREETINGS)} {body} {rng.choice(self.bank.SIGN_OFFS)}".format(
            **values
        )

    def customer_followup(self, rng: random.Random, topic: str) -> str:
        return str(rng.choice(self.bank.FOLLOWUPS.get(topic, self.bank.FOLLOWUPS["any"])))

    def chat_customer(self, rng: random.Random, topic: str, turn: int) -> str:
        lines = self.bank.CHAT_CUSTOMER[topic]
        return str(rng.choice(lines[0] if turn == 0 else lines[1]))

    def chat_agent(self, rng: random.Random, topic: str, turn: int) -> str:
        lines = self.bank.CHAT_AGENT[topic]
        return str(rng.choice(lines[0] if turn == 0 else lines[1]))

    def survey_comment(self, rng: random.Random, mood: str, topic: str) -> str:
        cores = self.bank.REVIEW.get(topic, {})
        if mood in cores and rng.random() < 0.6:
            return str(rng.choice(cores[mood])).format(days=2, product="")
        return str(rng.choice(self.bank.SURVEY[mood]))
