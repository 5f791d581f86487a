"""Hosted survey pages (a signed link per person and order), survey links and survey scores.

The page is server-rendered with Jinja2 autoescaping; nothing the customer or the link brings
is ever rendered unescaped. Answers go through the store's append as `Survey Answered` events.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment
from pydantic import BaseModel, Field

from klantreis.api import Klantreis
from klantreis.collect.events import InvalidEvent
from klantreis.collect.surveys import (
    COMMENT_MAX,
    SurveyError,
    SurveyLink,
    definitions,
    make_token,
    read_token,
    survey_text,
)
from klantreis.measure.voice.survey_scores import SurveyScoresQuery
from klantreis.present.api.deps import ReadAccess, StoreDep, WriteKey
from klantreis.present.api.limits import capped_body

FORM_MAX_BYTES = 64 * 1024
"""A score and a comment of at most COMMENT_MAX characters, percent-encoded (up to 12 bytes
per character), fit; the form is public, so nothing larger is read."""

router = APIRouter(tags=["surveys"])

_PAGE = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="{{ language }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ question }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}
.scale{display:flex;flex-wrap:wrap;gap:.4rem;margin:1rem 0}
.scale label{border:1px solid #999;border-radius:.3rem;padding:.5rem .8rem;cursor:pointer}
.ends{display:flex;justify-content:space-between;font-size:.85rem;color:#555}
textarea{width:100%;min-height:6rem}.error{color:#a00}
button{margin-top:1rem;padding:.6rem 1.4rem}
</style></head><body>
{% if thanks %}<h1>{{ thanks }}</h1>{% else %}
<h1>{{ question }}</h1>
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form method="post">
<div class="scale">{% for value in scale %}
<label><input type="radio" name="score" value="{{ value }}" required
{% if value == chosen %}checked{% endif %}> {{ value }}</label>{% endfor %}</div>
<div class="ends"><span>{{ low }}</span><span>{{ high }}</span></div>
<p><label for="comment">{{ comment_label }}</label></p>
<textarea id="comment" name="comment" maxlength="5000">{{ comment }}</textarea>
<button type="submit">{{ send }}</button>
</form>{% endif %}
</body></html>"""
)


def _page(
    link: SurveyLink,
    *,
    error: str = "",
    comment: str = "",
    chosen: int | None = None,
    thanks: bool = False,
) -> str:
    survey = definitions()[link.kind]
    lang = link.language
    return _PAGE.render(
        language=lang,
        question=survey.text("question", lang),
        low=survey.text("low", lang),
        high=survey.text("high", lang),
        scale=range(survey.minimum, survey.maximum + 1),
        comment_label=survey_text("comment", lang),
        send=survey_text("send", lang),
        thanks=survey_text("thanks", lang) if thanks else "",
        error=error,
        comment=comment,
        chosen=chosen,
    )


def _link(store: Any, token: str) -> SurveyLink:
    try:
        return read_token(store, token)
    except SurveyError as exc:
        raise InvalidEvent(exc.field, exc.reason) from None


@router.get("/s/{token}", response_class=HTMLResponse)
def survey_page(token: str, store: StoreDep) -> HTMLResponse:
    """The survey a link stands for, in the customer's language."""
    return HTMLResponse(_page(_link(store, token)))


@router.post("/s/{token}", response_class=HTMLResponse)
async def survey_answer(token: str, request: Request, store: StoreDep) -> HTMLResponse:
    """Store the answer (once per link) and thank the customer."""
    from klantreis.collect.surveys import answer_survey

    link = _link(store, token)
    body = await capped_body(request, FORM_MAX_BYTES)
    if body is None:
        error = survey_text("too_long", link.language)
        return HTMLResponse(_page(link, error=error), status_code=413)
    form = parse_qs(body.decode("utf-8", "replace"))
    score = (form.get("score") or [""])[0]
    comment = (form.get("comment") or [""])[0]
    try:
        answer_survey(store, token, score, comment)
    except SurveyError as exc:
        chosen = int(score) if score.strip().isdigit() else None
        # The customer's comment is kept in the form when it was fine; a rejected one is
        # never sent back (an error page that echoes input repeats whatever was posted).
        kept = comment if exc.field != "comment" and len(comment) <= COMMENT_MAX else ""
        return HTMLResponse(_page(link, error=str(exc), comment=kept, chosen=chosen), 400)
    return HTMLResponse(_page(link, thanks=True))


class LinkRequest(BaseModel):
    kind: str = Field(description="nps, csat or ces")
    user_id: str | None = Field(default=None, max_length=500)
    anonymous_id: str | None = Field(default=None, max_length=500)
    order_id: str | None = Field(default=None, max_length=500)
    language: str = Field(default="en", pattern="^(en|nl|da|de|pt)$")


@router.post("/api/surveys/links")
def survey_link(
    body: LinkRequest, request: Request, store: StoreDep, _key: WriteKey
) -> dict[str, str]:
    """A signed survey link for one person (and order); the shop sends it as it likes."""
    try:
        token = make_token(
            store,
            SurveyLink(body.kind, body.user_id, body.anonymous_id, body.order_id, body.language),
        )
    except SurveyError as exc:
        raise InvalidEvent(exc.field, exc.reason) from None
    return {"token": token, "url": str(request.url_for("survey_page", token=token))}


@router.get("/api/surveys/scores")
def survey_scores(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[SurveyScoresQuery, Query()],
) -> list[dict[str, Any]]:
    """NPS / CSAT / CES per month, phase, touchpoint, persona or all."""
    try:
        result = Klantreis.over(store, request.app.state.settings).run("survey_scores", query)
    except SurveyError as exc:
        raise InvalidEvent(exc.field, exc.reason) from None
    return result.to_pylist()
