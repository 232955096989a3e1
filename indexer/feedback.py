"""Merchant feedback as data: decisions checked against the taxonomy, and the acceptance report
(`catalog report acceptance`). The store keeps them (indexer/store/feedback.py); `catalog train` reads the
values the merchant kept as labels (indexer/training.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from indexer.store.feedback import CATEGORY, FeedbackItem
from taxonomy.models import TaxonomyError

DECISIONS = ("accepted", "edited", "rejected")


class FeedbackError(ValueError):
    """A decision that names something outside the taxonomy or does not hold together."""


def _category(taxonomy, value: str, where: str) -> str:
    try:
        return taxonomy.category(value).id
    except TaxonomyError as exc:
        raise FeedbackError(f"{where}: {exc}") from exc


def _value(taxonomy, attribute, value: str, where: str) -> str:
    try:
        found = taxonomy.value(value)
    except TaxonomyError as exc:
        raise FeedbackError(f"{where}: {exc}") from exc
    if found.handle not in attribute.value_handles:
        raise FeedbackError(f"{where}: {found.handle!r} is not a value of attribute {attribute.handle!r}")
    return found.handle


def checked_items(taxonomy, items: Sequence[FeedbackItem]) -> list[FeedbackItem]:
    """The decisions in taxonomy terms: category ids (a gid is accepted), attribute handles (a friendly id
    is accepted) and value handles (a numeric id or gid is accepted). The first bad one raises
    FeedbackError naming its position; nothing is half-checked."""
    checked = []
    for position, item in enumerate(items):
        where = f"decisions[{position}]"
        if item.attribute == CATEGORY:
            attribute = CATEGORY
            suggested = _category(taxonomy, item.suggested_value, f"{where}.suggested_value")
            final = None if item.final_value is None else _category(taxonomy, item.final_value, f"{where}.final_value")
        else:
            try:
                attr = taxonomy.attribute(item.attribute)
            except TaxonomyError as exc:
                raise FeedbackError(f"{where}.attribute: {exc}") from exc
            attribute = attr.handle
            suggested = _value(taxonomy, attr, item.suggested_value, f"{where}.suggested_value")
            final = None if item.final_value is None else _value(taxonomy, attr, item.final_value,
                                                                 f"{where}.final_value")
        try:
            checked.append(FeedbackItem(attribute=attribute, suggested_value=suggested, final_value=final,
                                        decision=item.decision))
        except ValidationError as exc:  # e.g. an "edit" to the suggested value under another name
            raise FeedbackError(f"{where}: {exc.errors()[0]['msg']}") from exc
    return checked


def _line(counts: dict[str, int]) -> dict[str, Any]:
    total = sum(counts.get(d, 0) for d in DECISIONS)
    line: dict[str, Any] = {"decisions": total, **{d: counts.get(d, 0) for d in DECISIONS}}
    line["acceptance"] = round(line["accepted"] / total, 4) if total else None
    line["edit_rate"] = round(line["edited"] / total, 4) if total else None
    return line


def _sum(groups) -> dict[str, int]:
    total: dict[str, int] = {}
    for counts in groups:
        for decision, count in counts.items():
            total[decision] = total.get(decision, 0) + count
    return total


def acceptance_report(catalog, store: str, extractor_version: str | None = None) -> dict[str, Any]:
    """Acceptance rate (accepted / all decisions; edited and rejected counted apart) of the suggested
    category, of each attribute, of all attributes together and overall."""
    counts = catalog.feedback_counts(store, extractor_version)
    category = counts.pop(CATEGORY, {})
    return {"store": store, "extractor_version": extractor_version, "category": _line(category),
            "attributes": {handle: _line(c) for handle, c in sorted(counts.items())},
            "all_attributes": _line(_sum(counts.values())), "overall": _line(_sum([category, *counts.values()]))}


def _row(name: str, line: dict[str, Any]) -> str:
    rate = "-" if line["acceptance"] is None else f"{line['acceptance'] * 100:.1f}%"
    return (f"{name:<24} {line['decisions']:>9} {line['accepted']:>9} {line['edited']:>7} {line['rejected']:>9}"
            f" {rate:>11}")


def format_acceptance(report: dict[str, Any]) -> str:
    version = report["extractor_version"] or "all extractor versions"
    lines = [f"Acceptance of suggestions in store {report['store']} ({version})"]
    if not report["overall"]["decisions"]:
        lines.append("no merchant feedback recorded yet (the listing assistant, /sell, records it on save)")
        return "\n".join(lines)
    lines.append(f"{'':<24} {'decisions':>9} {'accepted':>9} {'edited':>7} {'rejected':>9} {'acceptance':>11}")
    lines.append(_row("category", report["category"]))
    lines.append("")
    lines.extend(_row(handle, line) for handle, line in report["attributes"].items())
    lines.append(_row("all attributes", report["all_attributes"]))
    lines.append("")
    lines.append(_row("overall", report["overall"]))
    return "\n".join(lines)
