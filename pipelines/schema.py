"""What a configuration may say: each stage's settings, their types, units and allowed values.

The schema is derived from the stages' frozen parameter dataclasses themselves,
so a field added to one is validated without editing a list here:

- its **type** comes from the field's annotation and is checked strictly
  (pydantic, strict mode: ``120.9`` is not an integer, ``true`` not a number,
  ``"421"`` not a list; an integer is accepted where a number is expected);
- its **bounds** come, first, from the field's metadata (``field(default=...,
  metadata={"gt": 0, "unit": "mm"})``, keys ``gt``, ``ge``, ``lt``, ``le``,
  ``unit``), then from ``BOUNDS`` below, then from its name: ``*_mm`` is a
  distance or radius in mm (> 0; ``*smoothing*_mm`` may be 0), ``*_mm2`` an
  area (> 0), ``*_mm3`` a volume (> 0), ``*_fraction`` a fraction (0-1),
  ``*_cost`` non-negative; a field with none of these is only checked for its
  type (and to be finite);
- **orderings** between fields of one stage (``ORDER``) are checked last.

Errors are ``ValueError`` with one line naming the section, the key, the value
and what is allowed.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import ConfigDict, Field, Strict, ValidationError, create_model


@dataclass(frozen=True)
class Bound:
    """Allowed range of a number (or of each item of a list) and its unit."""

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    unit: str = ""

    def text(self) -> str:
        """``"> 0"``, ``"0 ≤ x ≤ 1"``, ... ("" when unbounded)."""
        low = ("<", self.gt) if self.gt is not None else ("≤", self.ge)
        high = ("<", self.lt) if self.lt is not None else ("≤", self.le)
        if low[1] is not None and high[1] is not None:
            return f"{_num(low[1])} {low[0]} x {high[0]} {_num(high[1])}"
        if low[1] is not None:
            return f"{'>' if low[0] == '<' else '≥'} {_num(low[1])}"
        if high[1] is not None:
            return f"{high[0]} {_num(high[1])}"
        return ""


#: Bounds that the field names do not imply (class name -> field -> bound).
BOUNDS: dict[str, dict[str, Bound]] = {
    "RegistrationParams": {
        "shrink_factors": Bound(ge=1),
        "histogram_bins": Bound(ge=2),
        "sampling_fraction": Bound(gt=0, le=1),
        "max_samples": Bound(ge=1),
        "iterations": Bound(ge=1),
        "learning_rate": Bound(gt=0),
        "refine_learning_rate": Bound(gt=0),
        "min_step": Bound(gt=0),
        "seed": Bound(ge=0),
    },
    "BrainstemParams": {
        "lateral_ratio": Bound(gt=1),
        "smoothing_voxels": Bound(ge=0, unit="voxels"),
    },
    "NamingParams": {
        "junction_mm": Bound(ge=0, unit="mm"),
        "branch_calibre": Bound(gt=0, le=1),
        "course_bend_deg": Bound(gt=0, le=180, unit="degrees"),
    },
    "NerveParams": {"attached_end_mm": Bound(ge=-20, le=20, unit="mm")},  # a signed height
    "VesselParams": {
        "dark_core_fraction": Bound(gt=0, le=1),
        "vein_tube_darkness": Bound(gt=0, le=1),
        "tube_roundness": Bound(ge=0, le=1),
    },
    "ContactParams": {"core_max": Bound(gt=0, le=1)},
    "DecisionParams": {"min_distance_factor": Bound(ge=0, le=1)},
    "InputCheckParams": {
        "min_structure": Bound(ge=0, le=1),
        "bright_of_peak": Bound(gt=0, lt=1),
        "min_t2_bright": Bound(ge=0, le=1),
        "swapped_t2_bright": Bound(ge=0, le=1),
        "swapped_mra_bright": Bound(ge=0, le=1),
        "max_mra_bright": Bound(gt=0, le=1),
        "min_mra_contrast": Bound(ge=1),
        "max_similarity": Bound(gt=0, le=1),
    },
    "SelfCheckParams": {
        "min_trace_quality": Bound(ge=0, le=1),
        "review_confidence": Bound(ge=0, le=1),
        "void_darkness": Bound(ge=0, le=1),
    },
}

#: Orderings within one stage: (class name, smaller field, larger field, strictly smaller).
ORDER: tuple[tuple[str, str, str, bool], ...] = (
    ("BrainstemParams", "min_run_mm", "max_run_mm", True),
    ("VesselParams", "grow_fraction", "seed_fraction", True),
    ("NerveParams", "separation_mm", "max_separation_mm", False),
    ("ContactParams", "contact_mm", "report_within_mm", False),
    ("ContactParams", "indentation_mm", "displacement_mm", True),
    ("RegistrationParams", "refine_learning_rate", "learning_rate", False),
    ("GeometryParams", "profile_smoothing_mm", "smoothing_mm", False),
    ("SelfCheckParams", "min_nerve_mm", "max_nerve_mm", True),
    ("SelfCheckParams", "min_attached_mm", "max_attached_mm", True),
    ("SelfCheckParams", "min_radius_mm", "max_radius_mm", True),
    ("SelfCheckParams", "min_brainstem_section_mm2", "max_brainstem_section_mm2", True),
)

#: Lists whose lengths must agree (class name, field, field): one entry per pyramid level.
SAME_LENGTH: tuple[tuple[str, str, str], ...] = (
    ("RegistrationParams", "shrink_factors", "smoothing_mm"),
)


@dataclass(frozen=True)
class Setting:
    """One key of a config section, as the schema documents and checks it."""

    name: str
    type: Any
    default: Any
    bound: Bound
    description: str

    @property
    def kind(self) -> str:
        """The type in words: ``"a number"``, ``"a list of integers"``, ..."""
        return _type_words(self.type)

    @property
    def range(self) -> str:
        """The allowed range (``"> 0"``; ``"each ≥ 1"`` for lists; "" when any value)."""
        limits = self.bound.text()
        return f"each {limits}" if limits and _is_list(self.type) else limits

    @property
    def allowed(self) -> str:
        """What the key accepts, e.g. ``"a number (mm), > 0"``."""
        unit = f" ({self.bound.unit})" if self.bound.unit else ""
        return f"{self.kind}{unit}" + (f", {self.range}" if self.range else "")


def settings(cls: type) -> list[Setting]:
    """The settings of a stage's parameter dataclass, in field order."""
    hints = typing.get_type_hints(cls)
    docs = _attribute_docs(cls)
    out = []
    for f in dataclasses.fields(cls):
        out.append(
            Setting(
                name=f.name,
                type=hints[f.name],
                default=_default(f),
                bound=_bound(cls.__name__, f),
                description=docs.get(f.name, ""),
            )
        )
    return out


def validate(cls: type, section: str, values: Any, *, base: Any = None) -> Any:
    """A ``cls`` instance from a config section's values (keys not given keep ``base``'s).

    Raises
    ------
    ValueError
        One line naming ``[section] key = value`` and what is allowed.
    """
    if not isinstance(values, dict):
        raise ValueError(f"[{section}] must be a table of settings, not {_show(values)}")
    known = settings(cls)
    by_name = {s.name: s for s in known}
    for key in values:
        if key not in by_name:
            raise ValueError(
                f"[{section}] {key} = {_show(values[key])}: unknown setting; [{section}] has "
                + ", ".join(by_name)
            )
    try:
        model = _model(cls)(**values)
    except ValidationError as exc:
        key = str(exc.errors()[0]["loc"][0])
        setting = by_name[key]
        raise ValueError(
            f"[{section}] {key} = {_show(values[key])} is not allowed: {setting.allowed}"
        ) from None
    base = base if base is not None else cls()
    given = {k: getattr(model, k) for k in values}
    params = dataclasses.replace(base, **given)
    _check_order(cls.__name__, section, params, values)
    return params


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    factory: Any = f.default_factory
    return factory()


def _check_order(name: str, section: str, params: Any, given: dict[str, Any]) -> None:
    for cls_name, small, large, strict in ORDER:
        if cls_name != name or not (hasattr(params, small) and hasattr(params, large)):
            continue
        a, b = getattr(params, small), getattr(params, large)
        if a > b or (strict and a == b):
            key = small if small in given else large
            relation = "below" if strict else "at most"
            raise ValueError(
                f"[{section}] {key} = {_show(getattr(params, key))} is not allowed:"
                f" {small} must be {relation} {large} (here {_show(a)} and {_show(b)})"
            )
    for cls_name, first, second in SAME_LENGTH:
        if cls_name != name or not (hasattr(params, first) and hasattr(params, second)):
            continue
        a, b = getattr(params, first), getattr(params, second)
        if len(a) != len(b):
            key = first if first in given else second
            raise ValueError(
                f"[{section}] {key} = {_show(getattr(params, key))} is not allowed: {first} and"
                f" {second} need one entry per level each (here {len(a)} and {len(b)})"
            )


def _model(cls: type) -> Any:
    """A pydantic model of ``cls``'s fields (strict types, bounds, no extra keys)."""
    fields: dict[str, Any] = {}
    for s in settings(cls):
        fields[s.name] = (_strict(s.type, s.bound), s.default)
    return create_model(f"{cls.__name__}Schema", __config__=ConfigDict(extra="forbid"), **fields)


def _strict(hint: Any, bound: Bound) -> Any:
    """``hint`` with every leaf type strict (and bounded, for numbers)."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple[_strict(args[0], bound), ...]  # type: ignore[misc]
        return tuple[tuple(_strict(a, bound) for a in args)]  # type: ignore[misc]
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_strict(a, bound) for a in typing.get_args(hint))]  # noqa: UP007
    if hint in (int, float):
        limits = {k: getattr(bound, k) for k in ("gt", "ge", "lt", "le")}
        return Annotated[
            hint,
            Strict(),
            Field(**{k: v for k, v in limits.items() if v is not None}, allow_inf_nan=False),
        ]
    if hint in (str, bool):
        return Annotated[hint, Strict()]
    return hint


def _bound(cls_name: str, f: dataclasses.Field[Any]) -> Bound:
    """Metadata first, then ``BOUNDS``, then what the name implies."""
    meta = f.metadata
    if any(k in meta for k in ("gt", "ge", "lt", "le", "unit")):
        return Bound(
            gt=meta.get("gt"),
            ge=meta.get("ge"),
            lt=meta.get("lt"),
            le=meta.get("le"),
            unit=meta.get("unit", _unit(f.name)),
        )
    if f.name in BOUNDS.get(cls_name, {}):
        bound = BOUNDS[cls_name][f.name]
        return bound if bound.unit else dataclasses.replace(bound, unit=_unit(f.name))
    name = f.name
    if name.endswith("_mm"):
        return Bound(ge=0, unit="mm") if "smoothing" in name else Bound(gt=0, unit="mm")
    if name.endswith("_mm2"):
        return Bound(gt=0, unit="mm²")
    if name.endswith("_mm3"):
        return Bound(gt=0, unit="mm³")
    if name.endswith("fraction"):
        return Bound(ge=0, le=1)
    if name.endswith("_cost"):
        return Bound(ge=0)
    return Bound()


def _unit(name: str) -> str:
    units = {"_mm": "mm", "_mm2": "mm²", "_mm3": "mm³"}
    return next((u for end, u in units.items() if name.endswith(end)), "")


def _type_words(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return "one of " + ", ".join(_show(v) for v in typing.get_args(hint))
    if origin is tuple:
        return f"a list of {_plural(typing.get_args(hint)[0])}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_words(a) for a in typing.get_args(hint) if a is not type(None))
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        hint, getattr(hint, "__name__", str(hint))
    )


def _plural(hint: Any) -> str:
    return {int: "integers", float: "numbers", bool: "booleans", str: "strings"}.get(
        hint, str(hint)
    )


def _is_list(hint: Any) -> bool:
    return typing.get_origin(hint) is tuple


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _show(value: Any) -> str:
    """A value as TOML writes it (``true``, ``"421"``, ``[4, 2, 1]``, ``-3``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return str(value)


def _attribute_docs(cls: type) -> dict[str, str]:
    """Field descriptions from the numpydoc ``Attributes`` section of ``cls``'s docstring."""
    doc = inspect.getdoc(cls) or ""
    match = re.search(r"^Attributes\n-+\n(.*?)(?:\n\S[^\n]*\n-+\n|\Z)", doc, re.S | re.M)
    if not match:
        return {}
    out: dict[str, str] = {}
    names: list[str] = []
    lines: list[str] = []
    for line in match.group(1).splitlines():
        head = re.match(r"^(\w[\w, ]*?)\s*:\s*\S", line)
        if head:
            for n in names:
                out[n] = " ".join(lines).strip()
            names = [n.strip() for n in head.group(1).split(",")]
            lines = []
        elif line.startswith((" ", "\t")):
            lines.append(line.strip())
    for n in names:
        out[n] = " ".join(lines).strip()
    return out
