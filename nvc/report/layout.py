"""The report's layout, declared as data (``layout.toml`` shipped beside this module)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass


@dataclass(frozen=True)
class SectionSpec:
    """One section of the layout.

    Attributes
    ----------
    id, title : str
        May hold ``{side}`` / ``{Side}`` when ``per_side``.
    blocks : tuple of str
        Names of content builders (``nvc.report.content.BLOCKS``), in order.
    per_side : bool
        Repeat the section for each side.
    """

    id: str
    title: str
    blocks: tuple[str, ...]
    per_side: bool = False


@dataclass(frozen=True)
class Layout:
    """Title, sections and figure captions of the report."""

    title: str
    sections: tuple[SectionSpec, ...]
    captions: dict[str, str]


def parse_layout(text: str, *, known_blocks: frozenset[str] | None = None) -> Layout:
    """Parse a layout TOML document.

    Raises
    ------
    ValueError
        Missing keys, an unknown block name, or duplicate section ids.
    """
    data = tomllib.loads(text)
    try:
        sections = tuple(
            SectionSpec(
                id=str(s["id"]),
                title=str(s["title"]),
                blocks=tuple(str(b) for b in s["blocks"]),
                per_side=bool(s.get("per_side", False)),
            )
            for s in data["sections"]
        )
        layout = Layout(
            title=str(data["title"]),
            sections=sections,
            captions={str(k): str(v) for k, v in data.get("captions", {}).items()},
        )
    except KeyError as exc:
        raise ValueError(f"report layout lacks {exc}") from None
    ids = [s.id for s in sections]
    if len(set(ids)) != len(ids):
        raise ValueError("report layout has duplicate section ids")
    if known_blocks is not None:
        for s in sections:
            unknown = set(s.blocks) - known_blocks
            if unknown:
                raise ValueError(
                    f"report layout section {s.id!r}: unknown blocks {sorted(unknown)}"
                )
    return layout
