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
from nvc.intensity import IntensityParams
from nvc.io.atomic import write_text
from nvc.nerve_geometry import GeometryParams
from nvc.nerves import NerveParams
from nvc.quality import SelfCheckParams
from nvc.registration import RegistrationParams
from nvc.vessel_names import NamingParams
from nvc.vessels import VesselParams
from pipelines.errors import UsageError

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

    min_vessel_void_agreement: float = 0.6


@dataclass(frozen=True)
class PipelineConfig:
    """Parameters of every stage of ``pipelines.case.run_case``."""

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
    """Build a config from nested dictionaries; unknown sections or keys are errors."""
    kwargs = {}
    defaults = PipelineConfig()
    known = {f.name for f in fields(PipelineConfig)}
    for section, values in data.items():
        if section not in known:
            raise ConfigError(f"unknown config section [{section}]")
        default = getattr(defaults, section)
        names = {f.name for f in fields(default)}
        unknown = set(values) - names
        if unknown:
            raise ConfigError(f"unknown setting(s) in [{section}]: {', '.join(sorted(unknown))}")
        converted = {
            k: tuple(v) if isinstance(getattr(default, k), tuple) else type(getattr(default, k))(v)
            for k, v in values.items()
        }
        kwargs[section] = dataclasses.replace(default, **converted)
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
    except (TypeError, ValueError) as exc:
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
        "# nvc default parameters of every stage (generated: python -m pipelines.config).\n"
        "# Copy, edit and pass with --config FILE. Unknown keys are errors.\n"
    )
    return write_text(path, header + PipelineConfig().to_toml())


if __name__ == "__main__":
    print(write_default_preset())
