"""`python -m benchmarks.rules [FILE] [--tag T] [--show T]`: the rules alone on a guardrail eval set.

Builds the rule engine as the chain does (the rule book, the configured embedder for the
nearest-example vote; no index needed) and prints, per tag group (default: half-a and half-b of
evals/train/guardrails.yaml), per rule: must-fire caught / cases and wrong firings / near-misses.
`--show T` also lists the failures of tag group T. A must-fire case tagged `action-<action>` (the
action its writer expected) is also checked for that action: caught with another action counts
in the "other action" column. Seconds, not minutes: the loop for fixing rules.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from assistant.config import PROJECT_ROOT, load_settings
from assistant.embeddings import get_embedder
from assistant.evals import Case, load_cases
from assistant.question import make_question
from assistant.rules import Engine, load_book

TRAIN = PROJECT_ROOT / "evals" / "train" / "guardrails.yaml"


def expected_action(case: Case) -> str | None:
    return next((t.removeprefix("action-") for t in case.tags if t.startswith("action-")), None)


def measure(engine: Engine, cases: list[Case]) -> tuple[dict[str, list[int]], list[str]]:
    """Per rule [caught, must-fire, wrong, near-misses, caught with another action than the case's
    `action-` tag], and one line per failure."""
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    failures = []
    for case in cases:
        fired = {v.rule: v.action for v in engine.evaluate(make_question(case.question, case.history))}
        for rule in case.expect.guardrails:
            stats[rule][1] += 1
            stats[rule][0] += rule in fired
            if rule not in fired:
                failures.append(f"MISS  {rule}: {case.question!r} history={case.history} fired={fired}")
            elif (action := expected_action(case)) is not None and fired[rule] != action:
                stats[rule][4] += 1
                failures.append(f"ACTION {rule}: expected {action}: {case.question!r} history={case.history} fired={fired}")
        for rule in case.expect.forbid_guardrails:
            stats[rule][3] += 1
            stats[rule][2] += rule in fired
            if rule in fired:
                failures.append(f"WRONG {rule}: {case.question!r} history={case.history} fired={fired}")
    return stats, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", nargs="?", type=Path, default=TRAIN)
    parser.add_argument("--tag", action="append", help="tag groups to report (default half-a, half-b)")
    parser.add_argument("--show", action="append", default=[], help="list the failures of this tag group")
    parser.add_argument("--lexicon", action="store_true", help="no embedder: phrase lists and slots only")
    args = parser.parse_args()
    settings = load_settings()
    embedder = None if args.lexicon else get_embedder(settings)
    engine = Engine(load_book(settings.corpus_dir), embedder, settings.data_dir / "vectors")
    table = [(rule.id, e) for rule in engine.book.rules for e in rule.spec.examples.fire + rule.spec.examples.near_misses]
    mislabelled = []
    for rule_id, example in table:
        fired = {v.rule: v.action for v in engine.evaluate(make_question(example.q, example.history))}
        if fired.get(rule_id) != example.action and (example.action is not None or rule_id in fired):
            mislabelled.append(f"    {rule_id}:{example.id} expected {example.action}, got {fired}")
    print(f"rules.yaml examples: {len(table) - len(mislabelled)}/{len(table)} as labelled", *mislabelled, sep="\n")
    cases = load_cases([args.file])
    for tag in args.tag or ["half-a", "half-b"]:
        stats, failures = measure(engine, [c for c in cases if tag in c.tags])
        total = [sum(s[i] for s in stats.values()) for i in range(5)]
        print(f"{tag}: must-fire {total[0]}/{total[1]} (other action {total[4]}), wrong firings {total[2]}/{total[3]}")
        for rule, (caught, fire, wrong, near, other) in sorted(stats.items()):
            print(f"  {rule:22s} must-fire {caught}/{fire} (other action {other})  wrong {wrong}/{near}")
        if tag in args.show:
            print("\n".join("    " + f for f in failures))


if __name__ == "__main__":
    main()
