"""Acronyms the pages spell out, and how a question's tokens are widened with them."""

from __future__ import annotations

import pytest

from assistant.acronyms import expand, find_acronyms
from assistant.text import tokens

LPP = ("loss", "protection", "plan")


@pytest.mark.parametrize("texts,expected", [
    (["Check if the client is opted into LPP", "Add Daily Loss Protection Plan to the invoice"], {"lpp": LPP}),
    (["Reading a Click N Go (CNG) Invoice"], {"cng": ("click", "n", "go")}),
    (["Send a UTR ticket to CSG"], {}),  # never spelled out: nothing to expand
    (["Loss Protection Plan details"], {}),  # spelled out, but no page uses an acronym for it
    (["CLIENT IS IN COLLECTION", "CIC rules"], {}),  # an all-caps run is shouting, not a definition
    (["See the A.R.T team", "Ask Real Teams"], {"art": ("ask", "real", "team")}),  # dotted acronyms count
    (["Uses LP", "Long Pause"], {"lp": tuple(tokens("Long Pause"))}),
    (["Uses the AB form", "A Bee"], {}),  # "A" is a stopword: one content word is not a phrase
], ids=["lpp-on-two-pages", "cng-in-one-line", "not-spelled-out", "no-acronym-used", "all-caps-run",
        "dotted", "two-letters", "phrase-too-short"])
def test_find_acronyms(texts: list[str], expected: dict[str, tuple[str, ...]]) -> None:
    assert find_acronyms(texts) == expected


@pytest.mark.parametrize("question,extra", [
    ("where do I see if the client has loss protection turned on", ["lpp"]),
    ("is the client opted into LPP?", list(LPP)),
    ("what does the protection cover", []),  # one word of the phrase is not enough
    ("LPP loss protection plan", []),  # everything already there
    ("", []),
], ids=["phrase-gets-acronym", "acronym-gets-phrase", "one-word-only", "nothing-new", "empty"])
def test_expand(question: str, extra: list[str]) -> None:
    assert expand(tokens(question), {"lpp": LPP}) == extra
