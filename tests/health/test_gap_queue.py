"""The knowledge-gap queue: 30 recorded abstentions / 👎 answers grouped and ranked."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.fakes import FakeEmbeddings
from assistant.health.gap_queue import FALLBACK_GROUP_SIMILARITY, GapSignal, SectionRef, group_signals, threshold_for

TOW = SectionRef("client-courtesy-credits", "Tow Reimbursements", "tow-reimbursements")
CREDITS = SectionRef("credits-key-points", "Credits – Key Points", "credits-key-points")

# (question, kind, comment, closest section); timestamps follow the list order.
RECORDS = (
    # 11 ways of asking how to refund a tow: the biggest gap
    *[(q, "abstained", "", TOW) for q in (
        "how do I refund a client's tow bill", "refund the tow bill for a client", "client wants a tow bill refund",
        "can we refund a tow bill", "tow bill refund for client", "how to refund client tow bill",
        "refund tow bill", "client tow bill refund how")],
    ("tow bill refund client asks", "thumbs_down", "answer did not say who approves", TOW),
    ("how do I refund the tow bill", "thumbs_down", "missing the approval step", TOW),
    ("refund a tow bill client", "thumbs_down", "", CREDITS),
    # 8 about recalibrating the device in Spanish-speaking states
    *[(q, "abstained", "", None) for q in (
        "device calibration appointment spanish speaking client", "spanish speaking client device calibration",
        "calibration appointment for spanish speaking client", "spanish client device calibration appointment",
        "device calibration spanish speaking", "calibration device spanish client appointment")],
    ("spanish speaking client calibration device", "thumbs_down", "no page covers calibration", None),
    ("device calibration for a spanish speaking client", "thumbs_down", "", None),
    # 6 about the lockout code
    *[(q, "abstained", "", CREDITS) for q in (
        "lockout code emergency override", "emergency lockout override code", "override code for lockout emergency",
        "lockout emergency override code please", "code to override an emergency lockout")],
    ("emergency override lockout code", "thumbs_down", "agents need this on nights", CREDITS),
    # 3 about a fleet discount, then 2 one-offs
    ("fleet vehicle discount", "abstained", "", None), ("discount for fleet vehicles", "abstained", "", None),
    ("fleet discount vehicle", "thumbs_down", "", None),
    ("what is the warehouse wifi password", "abstained", "", None),
    ("holiday schedule payroll", "abstained", "", None),
)


def signals() -> list[GapSignal]:
    return [GapSignal(q, kind, f"2026-11-{1 + n // 2:02d}T{n % 24:02d}:00:00", comment, (ref,) if ref else ())  # type: ignore[arg-type]
            for n, (q, kind, comment, ref) in enumerate(RECORDS)]


def test_thirty_signals_group_and_rank_by_count() -> None:
    recorded = signals()
    assert len(recorded) == 30
    embedder = FakeEmbeddings()
    vectors = np.asarray([embedder.embed_query(s.question) for s in recorded], dtype=np.float32)
    groups = group_signals(recorded, vectors, FALLBACK_GROUP_SIMILARITY)

    assert [g.count for g in groups] == [11, 8, 6, 3, 1, 1]
    tow, calibration, lockout, fleet = groups[:4]
    assert all("tow" in q for q in tow.questions) and all("calibration" in q for q in calibration.questions)
    assert all("lockout" in q for q in lockout.questions) and all("fleet" in q for q in fleet.questions)
    assert (tow.abstained, tow.thumbs_down) == (8, 3)
    assert tow.closest == TOW  # 10 of its 11 signals found the tow section closest
    assert tow.comments == ("answer did not say who approves", "missing the approval step")
    assert calibration.closest is None and calibration.comments == ("no page covers calibration",)
    assert len(tow.examples) == 5 and tow.examples[0] in tow.questions
    # the two one-offs: equal count, the most recent first
    assert [g.questions for g in groups[4:]] == [("holiday schedule payroll",), ("what is the warehouse wifi password",)]
    assert len({g.id for g in groups}) == len(groups)


def test_no_signals_no_groups() -> None:
    assert group_signals([], np.zeros((0, 4), dtype=np.float32), 0.5) == []


@pytest.mark.integration
def test_the_e5_threshold_groups_the_thirty_signals_the_same_way() -> None:
    from assistant.config import load_settings
    from assistant.embeddings import get_embedder

    settings = load_settings()
    embedder = get_embedder(settings)
    recorded = signals()
    vectors = np.asarray([embedder.embed_query(s.question) for s in recorded], dtype=np.float32)
    groups = group_signals(recorded, vectors, threshold_for(embedder.name, settings.embedding_backend))
    assert [g.count for g in groups] == [11, 8, 6, 3, 1, 1]
