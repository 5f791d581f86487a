"""Read API for the voice of the customer: topics with quotes, emotion per phase, scoring."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from klantreis.api import Klantreis
from klantreis.measure.voice.analyses import EmotionQuery, VoiceQuery
from klantreis.measure.voice.scoring import VoiceScorer
from klantreis.measure.voice.training import load_shop_model
from klantreis.present.api.deps import ReadAccess, StoreDep

router = APIRouter(prefix="/api/voice", tags=["voice"])


def _kr(request: Request, store: Any) -> Klantreis:
    return Klantreis.over(store, request.app.state.settings)


@router.get("")
def voice(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[VoiceQuery, Query()],
) -> list[dict[str, Any]]:
    """Per topic: texts, sentiment, trend and quotes (the same as `klantreis voice --json`).

    Quotes are the customers' own text, unescaped JSON strings: escape them when rendering.
    """
    return _kr(request, store).run("voice", query).to_pylist()


@router.get("/emotion")
def emotion(
    request: Request, store: StoreDep, _who: ReadAccess, query: Annotated[EmotionQuery, Query()]
) -> dict[str, Any]:
    """Phase → mean sentiment (-1..+1), texts and mean review score: the emotion curve."""
    return dict(_kr(request, store).run("emotion_by_phase", query).as_json())


class ScoreRequest(BaseModel):
    texts: list[str] = Field(min_length=1, max_length=1000)
    language: str | None = Field(default=None, min_length=2, max_length=8)


@router.post("/score")
def score(body: ScoreRequest, store: StoreDep, _who: ReadAccess) -> list[dict[str, Any]]:
    """Score texts without storing them (the same as `klantreis voice score --json`)."""
    scorer = VoiceScorer(load_shop_model(store))
    languages = [body.language] * len(body.texts) if body.language else None
    return [s.as_dict() for s in scorer.score_many(body.texts, languages)]
