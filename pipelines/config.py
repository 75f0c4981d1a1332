"""The pipeline configuration: one frozen parameter dataclass per stage, loaded from TOML."""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from nvc.brainstem import BrainstemParams
from nvc.contacts import ContactParams
from nvc.decision import DecisionParams
from nvc.inputs import InputCheckParams
from nvc.intensity import IntensityParams
from nvc.io.atomic import write_text
from nvc.nerve_geometry import GeometryParams
from nvc.nerves import NerveParams
from nvc.quality import SelfCheckParams
from nvc.region import RegionParams
from nvc.registration import RegistrationParams
from nvc.vascular_context import ContextParams
from nvc.vertebrobasilar import VertebrobasilarParams
from nvc.vessel_names import NamingParams
from nvc.vessels import VesselParams
from nvc_pipelines.errors import UsageError
from nvc_pipelines.schema import ORDER, SAME_LENGTH, settings, validate

PRESETS = Path(__file__).with_name("presets")


@dataclass(frozen=True)
class QualityParams:
    """Quality checks of the inputs and the registration.

    Attributes
    ----------
    min_vessel_void_agreement : float
        Fraction of TOF arteries that must fall on dark T2 flow voids after
        registration; below it the registration is flagged as poor.
    """

    min_vessel_void_agreement: float = field(default=0.6, metadata={"ge": 0.0, "le": 1.0})


@dataclass(frozen=True)
class PipelineConfig:
    """Parameters of every stage of ``nvc_pipelines.case.run_case``."""

    registration: RegistrationParams = field(default_factory=RegistrationParams)
    intensity: IntensityParams = field(default_factory=IntensityParams)
    brainstem: BrainstemParams = field(default_factory=BrainstemParams)
    vessels: VesselParams = field(default_factory=VesselParams)
    nerves: NerveParams = field(default_factory=NerveParams)
    naming: NamingParams = field(default_factory=NamingParams)
    geometry: GeometryParams = field(default_factory=GeometryParams)
    contacts: ContactParams = field(default_factory=ContactParams)
    decision: DecisionParams = field(default_factory=DecisionParams)
    quality: QualityParams = field(default_factory=QualityParams)
    checks: SelfCheckParams = field(default_factory=SelfCheckParams)
    region: RegionParams = field(default_factory=RegionParams)
    inputs: InputCheckParams = field(default_factory=InputCheckParams)
    context: ContextParams = field(default_factory=ContextParams)
    vertebrobasilar: VertebrobasilarParams = field(default_factory=VertebrobasilarParams)

    def to_dict(self) -> dict[str, Any]:
        """Nested plain dictionary (tuples as lists)."""
        return {f.name: dataclasses.asdict(getattr(self, f.name)) for f in fields(self)}

    def to_toml(self) -> str:
        """TOML text of the whole configuration."""
        return tomli_w.dumps(_lists(self.to_dict()))

    def sha256(self) -> str:
        """Hash of the configuration (of its TOML text)."""
        return hashlib.sha256(self.to_toml().encode()).hexdigest()


class ConfigError(UsageError):
    """A configuration file is unreadable or names unknown settings."""


def config_from_dict(data: dict[str, Any]) -> PipelineConfig:
    """Build a config from nested dictionaries, validated against ``nvc_pipelines.schema``.

    Raises
    ------
    ConfigError
        One line naming the first unknown section or key, or the key whose value
        has the wrong type, is out of range or out of order, with what is allowed.
    """
    kwargs = {}
    defaults = PipelineConfig()
    known = [f.name for f in fields(PipelineConfig)]
    for section, values in data.items():
        if section not in known:
            raise ConfigError(
                f"[{section}]: unknown config section; the sections are {', '.join(known)}"
            )
        default = getattr(defaults, section)
        try:
            kwargs[section] = validate(type(default), section, values)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return PipelineConfig(**kwargs)


def load_config(path: str | Path | None) -> PipelineConfig:
    """Load a TOML config file or a preset by name (``default``); None gives the defaults."""
    if path is None:
        return PipelineConfig()
    p = Path(path)
    if not p.exists() and (PRESETS / f"{path}.toml").exists():
        p = PRESETS / f"{path}.toml"
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    try:
        return config_from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from None


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items() if v is not None}
    if isinstance(value, tuple | list):
        return [_lists(v) for v in value]
    return value


def write_default_preset() -> Path:
    """Rewrite ``presets/default.toml`` from the code's defaults (run after changing a default)."""
    path = PRESETS / "default.toml"
    header = (
        "# nvc default parameters of every stage (generated: python -m nvc_pipelines.config).\n"
        "# Copy, edit and pass with --config FILE. Unknown keys, wrong types and values out of\n"
        "# range are errors; every key is described in docs/configuration.md.\n"
    )
    return write_text(path, header + PipelineConfig().to_toml())


#: The published schema, written from the code by ``python -m nvc_pipelines.config``.
SCHEMA_DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def schema_markdown() -> str:
    """``docs/configuration.md``: every section and key with its type, unit, range and default."""
    lines = [
        "# Configuration",
        "",
        "<!-- generated from the code by `python -m nvc_pipelines.config`; do not edit -->",
        "",
        "`nvc run --config FILE`, `nvc batch --config FILE` and the napari widget's preset box",
        "read a TOML file with the sections below (all optional; a key not given keeps its",
        "default, `pipelines/presets/default.toml` lists them all). A key of the wrong type",
        '(`120.9` for an integer, `true` for a number, `"421"` for a list), a value out of',
        "range or out of order, or an unknown section or key is refused with one line naming",
        "it (exit code 2). Numbers may be written as integers (`2` for `2.0`).",
        "",
    ]
    for f in fields(PipelineConfig):
        cls = type(getattr(PipelineConfig(), f.name))
        lines += [f"## [{f.name}]", "", f"`{cls.__module__}.{cls.__name__}`", ""]
        lines += [
            "| key | type | unit | range | default | meaning |",
            "|---|---|---|---|---|---|",
        ]
        for s in settings(cls):
            default = _show_default(s.default)
            meaning = s.description.replace("|", "\\|")
            lines.append(
                f"| `{s.name}` | {s.kind} | {s.bound.unit} | {s.range or 'any'} | `{default}`"
                f" | {meaning} |"
            )
        lines.append("")
    config = PipelineConfig()
    section_of = {type(getattr(config, f.name)).__name__: f.name for f in fields(config)}
    lines += ["## Orderings", ""]
    for cls_name, small, large, strict in ORDER:
        relation = "<" if strict else "≤"
        lines.append(f"- `[{section_of[cls_name]}]` `{small}` {relation} `{large}`")
    for cls_name, first, second in SAME_LENGTH:
        lines.append(f"- `[{section_of[cls_name]}]` `{first}` and `{second}` have the same length")
    lines.append("")
    return "\n".join(lines)


def _show_default(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def write_schema_doc() -> Path:
    """Rewrite ``docs/configuration.md`` from the code (run after changing a stage's fields)."""
    return write_text(SCHEMA_DOC, schema_markdown())


if __name__ == "__main__":
    # the module itself, not ``__main__``: the schema names the classes by their module
    from nvc_pipelines import config

    print(config.write_default_preset())
    print(config.write_schema_doc())
