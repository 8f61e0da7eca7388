"""The presenter and the links: the Answer rendered one way for every caller."""

from __future__ import annotations

from assistant.links import attach
from assistant.models import Answer, Citation, CitationSource, Verdict
from assistant.present import answer_text, terminal_text

WV = Verdict(rule="wv-no-credit", action="deny", message="No credits in WV.",
             citation=CitationSource(page="client-courtesy-credits", section="Credits", anchor="credits"))
CAP = Verdict(rule="credit-cap", action="caution", message="Up to $35.",
              citation=CitationSource(page="client-courtesy-credits", section="Credits", anchor="credits"))
QUOTE = Citation(n=1, page="credits-key-points", section="Key Points", anchor="key-points", page_title="Credits",
                 quote="We cannot provide any courtesy credits for West Virginia.", updated="2024-01-02",
                 also_in=[CitationSource(page="client-courtesy-credits", section="Support", anchor="support")])
ANSWER = Answer(question="q", answer="We cannot provide any courtesy credits for West Virginia. [1]", abstained=False,
                citations=[QUOTE], guardrails=[WV, CAP])


def test_verdicts_lead_the_body_in_order() -> None:
    assert answer_text(ANSWER) == ("Not allowed: No credits in WV.\n\nCaution: Up to $35.\n\n"
                                   "We cannot provide any courtesy credits for West Virginia. [1]")
    assert answer_text(ANSWER.model_copy(update={"guardrails": []})) == ANSWER.answer


def test_links_open_the_viewer_at_the_section_with_the_quote_highlighted() -> None:
    linked = attach(ANSWER, "http://ui:8501/")
    assert linked.citations[0].url == ("http://ui:8501/page_viewer?page=credits-key-points&section=key-points"
                                       "&hl=We%20cannot%20provide%20any%20courtesy%20credits%20for%20West%20Virginia.")
    assert linked.citations[0].also_in[0].url.startswith("http://ui:8501/page_viewer?page=client-courtesy-credits"
                                                         "&section=support&hl=We%20cannot")
    assert linked.guardrails[0].citation.url == "http://ui:8501/page_viewer?page=client-courtesy-credits&section=credits"


def test_a_page_with_its_own_address_is_linked_there() -> None:
    own = ANSWER.model_copy(update={"citations": [QUOTE.model_copy(update={"source_url": "https://wiki/credits#old"})]})
    assert attach(own, "http://ui").citations[0].url == "https://wiki/credits#key-points"


def test_terminal_text_lists_every_source() -> None:
    text = terminal_text(attach(ANSWER, "http://ui"))
    assert text.startswith("Not allowed: No credits in WV.")
    assert "[1] Credits \u2014 Key Points, updated 2024-01-02" in text
    assert "also on: client-courtesy-credits (Support)" in text and "http://ui/page_viewer?page=credits-key-points" in text
