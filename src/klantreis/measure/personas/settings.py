"""`[personas]` in klantreis.toml, typed: the rule file and where segment entries are posted.

[personas]
rules = "personas.yaml"                              # else ./personas.yaml, else built-in
webhook = "https://mail-tool.example/hooks/klantreis"
notify = ["first-time-buyers", "careful-comparers"]
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from klantreis.config import SectionSettings


class PersonasSettings(SectionSettings):
    SECTION: ClassVar[str] = "personas"

    rules: Annotated[str | None, Field(description="a path to a rules YAML file")] = None
    webhook: Annotated[
        str | None,
        Field(pattern=r"^https?://", description="an http(s) URL that receives entries"),
    ] = None
    notify: Annotated[
        tuple[str, ...], Field(description='a list of persona ids, e.g. ["first-time-buyers"]')
    ] = ()
