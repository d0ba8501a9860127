"""The import report: what each importer mapped, converted, dropped (and why), which cells are
suppressed and which municipalities were re-organised."""

from __future__ import annotations

import dataclasses

import pandas as pd

__all__ = ["ImportDataError", "ImportReport"]

KINDS = ("mapped", "converted", "dropped", "suppressed", "reorganised", "unmatched")


class ImportDataError(ValueError):
    """A source file that cannot be imported; the message names the file, sheet and column."""


@dataclasses.dataclass
class ImportReport:
    """Entries by source and kind (``mapped``, ``converted``, ``dropped``, ``suppressed``,
    ``reorganised``, ``unmatched``), plus the table of re-organised municipalities.

    ``reorganised`` has one row per affected OKTMO code: ``code``, ``unit`` (the stable unit it
    is carried to; empty for a split, which is reported, not carried), ``kind`` (``recode``,
    ``merge``, ``split``, ``transfer``), ``source`` and ``name``.
    """

    entries: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    reorganised: pd.DataFrame | None = None
    counts: dict = dataclasses.field(default_factory=dict)

    def add(self, source: str, kind: str, text: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"report kind must be one of {KINDS}, got {kind!r}")
        self.entries.append((source, kind, text))

    def of(self, kind: str, source: str | None = None) -> list[str]:
        """The entries of one kind (and source)."""
        return [t for s, k, t in self.entries if k == kind and (source is None or s == source)]

    def extend(self, other: ImportReport) -> None:
        self.entries += other.entries
        self.counts.update(other.counts)
        if other.reorganised is not None and len(other.reorganised):
            parts = [p for p in (self.reorganised, other.reorganised) if p is not None and len(p)]
            self.reorganised = pd.concat(parts, ignore_index=True).drop_duplicates()

    def to_markdown(self) -> str:
        """The report as Markdown (``import_report.md``)."""
        lines = ["# Import report", ""]
        if self.counts:
            lines += ["| table | rows |", "|---|---:|"] + [f"| {k} | {v:,} |" for k, v in self.counts.items()] + [""]
        sources = list(dict.fromkeys(s for s, _, _ in self.entries))
        for src in sources:
            lines += [f"## {src}", ""]
            for kind in KINDS:
                items = self.of(kind, src)
                if items:
                    lines += [f"**{kind}**", ""] + [f"- {t}" for t in items] + [""]
        r = self.reorganised
        lines += ["## Re-organised municipalities", ""]
        if r is None or not len(r):
            lines += ["None.", ""]
        else:
            lines += [f"{len(r)} OKTMO code(s) affected: merges and recodes are carried to the later (stable) unit; "
                      "splits and transfers are listed and not carried.", "",
                      "| code | unit | kind | source | name |", "|---|---|---|---|---|"]
            for row in r.fillna("").itertuples(index=False):
                lines.append(f"| {row.code} | {row.unit} | {row.kind} | {row.source} | {row.name} |")
            lines.append("")
        return "\n".join(lines)
