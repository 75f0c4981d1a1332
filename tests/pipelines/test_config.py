"""Configuration files are validated against the stages' dataclasses, never coerced."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nvc.region import RegionParams
from nvc_pipelines.case import check_inputs
from nvc_pipelines.cli import main
from nvc_pipelines.config import (
    PRESETS,
    SCHEMA_DOC,
    PipelineConfig,
    config_from_dict,
    load_config,
    schema_markdown,
)
from nvc_pipelines.errors import AnalysisError, UsageError
from nvc_pipelines.schema import BOUNDS, ORDER, SAME_LENGTH, settings, validate
from tests.helpers import with_slices

# (TOML text, fragments the one-line message must hold)
BAD = [
    ("[registration]\niterations = 120.9\n", ["[registration] iterations = 120.9", "an integer"]),
    (
        '[registration]\nshrink_factors = "421"\n',
        ['[registration] shrink_factors = "421"', "a list of integers"],
    ),
    (
        "[registration]\nsampling_fraction = true\n",
        ["[registration] sampling_fraction = true", "a number, 0 < x ≤ 1"],
    ),
    ("[contacts]\ncontact_mm = -3\n", ["[contacts] contact_mm = -3", "a number (mm), > 0"]),
    ("[vessels]\nseed_fraction = 1.5\n", ["seed_fraction = 1.5", "0 ≤ x ≤ 1"]),
    ("[nerves]\nmax_radius_mm = nan\n", ["max_radius_mm = nan", "> 0"]),
    ("[registration]\nshrink_factors = [4, 2.5, 1]\n", ["shrink_factors = [4, 2.5, 1]"]),
    ("[contacts]\ncontact_mm = 3.0\n", ["contact_mm = 3.0", "at most report_within_mm"]),
    ("[registration]\nshrink_factors = [4, 2]\n", ["one entry per level"]),
    ("[nerves]\nno_such_setting = 1\n", ["[nerves] no_such_setting = 1", "unknown setting"]),
    ("[nerve]\nrez_below_mm = 1\n", ["[nerve]", "unknown config section", "nerves"]),
    ("contacts = 3\n", ["[contacts] must be a table"]),
]


@pytest.mark.parametrize(("text", "fragments"), BAD, ids=[b[1][0] for b in BAD])
def test_wrong_types_ranges_orders_and_keys_are_one_line_exit_2(text, fragments, tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(text)
    out = tmp_path / "o"
    code = main(
        ["run", "--t2", "x.nii", "--mra", "y.nii", "--out", str(out), "--config", str(path)]
    )
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith(f"nvc: error: {path}: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not out.exists()


def test_batch_refuses_a_bad_config_before_writing(tmp_path, capsys):
    bids = tmp_path / "bids"
    for name in ("sub-01_T2w.nii.gz", "sub-01_angio.nii.gz"):
        (bids / "sub-01" / "anat").mkdir(parents=True, exist_ok=True)
        (bids / "sub-01" / "anat" / name).write_bytes(b"")
    (bids / "dataset_description.json").write_text('{"Name": "t", "BIDSVersion": "1.9.0"}')
    config = tmp_path / "c.toml"
    config.write_text("[registration]\niterations = 120.9\n")
    out = tmp_path / "out"
    code = main(["batch", str(bids), str(out), "participant", "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 2 and "[registration] iterations = 120.9" in err, err
    assert not out.exists()


def test_values_keep_their_types_and_integers_are_numbers():
    config = config_from_dict(
        {
            "registration": {"iterations": 80, "smoothing_mm": [2, 1, 0]},
            "contacts": {"contact_mm": 1},
        }
    )
    assert config.registration.iterations == 80
    assert config.registration.smoothing_mm == (2.0, 1.0, 0.0)
    assert isinstance(config.contacts.contact_mm, float) and config.contacts.contact_mm == 1.0
    assert config.contacts.report_within_mm == PipelineConfig().contacts.report_within_mm


def test_the_defaults_and_the_presets_are_valid():
    config = PipelineConfig()
    assert config_from_dict(config.to_dict()) == config
    for preset in PRESETS.glob("*.toml"):
        load_config(preset)


def test_a_new_field_is_validated_without_editing_a_list():
    @dataclass(frozen=True)
    class NewParams:
        """New stage.

        Attributes
        ----------
        reach_mm : float
            How far.
        weight : float
            No declared bound: type only.
        share : float
            Declared next to the field.
        """

        reach_mm: float = 2.0
        weight: float = 1.0
        share: float = field(default=0.5, metadata={"gt": 0.0, "lt": 1.0})

    assert validate(NewParams, "new", {"weight": -7}).weight == -7.0
    for values, fragment in (
        ({"reach_mm": -1}, "reach_mm = -1 is not allowed: a number (mm), > 0"),
        ({"weight": "heavy"}, 'weight = "heavy" is not allowed: a number'),
        ({"share": 1}, "share = 1 is not allowed: a number, 0 < x < 1"),
    ):
        with pytest.raises(ValueError) as err:
            validate(NewParams, "new", values)
        assert fragment in str(err.value)
    assert [s.description for s in settings(NewParams)] == [
        "How far.",
        "No declared bound: type only.",
        "Declared next to the field.",
    ]


def test_every_bound_and_ordering_names_a_field_of_its_stage():
    stages = {type(getattr(PipelineConfig(), f.name)) for f in dataclasses.fields(PipelineConfig)}
    fields_of = {c.__name__: {f.name for f in dataclasses.fields(c)} for c in stages}
    for cls_name, bounds in BOUNDS.items():
        assert set(bounds) <= fields_of[cls_name], cls_name
    for cls_name, *names in [(o[0], o[1], o[2]) for o in ORDER] + list(SAME_LENGTH):
        assert set(names) <= fields_of[cls_name], (cls_name, names)


def test_the_published_schema_matches_the_code():
    assert SCHEMA_DOC.read_text(encoding="utf-8") == schema_markdown(), (
        "docs/configuration.md is stale: run python -m nvc_pipelines.config"
    )
    for f in dataclasses.fields(PipelineConfig):
        assert f"## [{f.name}]" in schema_markdown()


def test_config_error_is_a_usage_error(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[contacts]\ncontact_mm = -3\n")
    with pytest.raises(UsageError, match=str(Path(path).name)):
        load_config(path)


def test_the_default_preset_and_every_default_pass_their_own_validation():
    """A default outside its own bound (a signed height read as a distance) is refused."""
    from nvc_pipelines.config import PipelineConfig, load_config

    assert load_config("default") == PipelineConfig()


def test_the_input_limits_are_set_from_the_configuration(phantom_case):
    """A preset may accept 1.5 mm T2 slices that the default refuses (a research choice)."""
    thick = with_slices(phantom_case.t2, 1.5)
    with pytest.raises(AnalysisError, match="mm slices"):
        check_inputs(thick, phantom_case.mra, params=PipelineConfig().inputs)
    config = config_from_dict({"inputs": {"max_t2_voxel_mm": 2.0}})
    assert config.inputs.max_t2_voxel_mm == 2.0
    check_inputs(thick, phantom_case.mra, params=config.inputs)


def test_the_region_analysed_is_set_from_the_configuration():
    config = config_from_dict({"region": {"lateral_mm": 40.0, "below_mm": 12.0}})
    assert (config.region.lateral_mm, config.region.below_mm) == (40.0, 12.0)
    assert config.region.above_mm == RegionParams().above_mm
