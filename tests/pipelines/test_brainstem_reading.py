"""The brainstem stage reads the tissue level a second way when the first gives no brainstem."""

from __future__ import annotations

import numpy as np
import pytest

import nvc_pipelines.case as case_module
from nvc.brainstem import segment_brainstem
from nvc.intensity import levels_of, normalize_t2
from nvc.labels import Label
from nvc.phantom import PhantomCase
from nvc.quality import brainstem_size_check
from nvc.volume import Volume, reorient_canonical
from nvc_pipelines.case import find_brainstem
from nvc_pipelines.config import PipelineConfig


def _misread(image, spacing, *, params):
    """``normalize_t2`` with its tissue level taken from the partial-volume class (as at 1.5 T)."""
    norm, _ = normalize_t2(image, spacing, params=params)
    return norm, levels_of(0.85)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2 * (a & b).sum() / (a.sum() + b.sum()))


def test_a_misread_tissue_level_is_read_again(phantom_case: PhantomCase, monkeypatch):
    t2c = reorient_canonical(phantom_case.t2)
    truth = reorient_canonical(phantom_case.labels).array == Label.BRAINSTEM
    config = PipelineConfig()
    norm, misread = _misread(t2c.array, t2c.spacing, params=config.intensity)
    try:  # with the misread level alone, no brainstem or not a brainstem's size
        wrong = segment_brainstem(norm, misread, t2c.spacing, params=config.brainstem)
        assert not brainstem_size_check(wrong, t2c.spacing).passed
    except ValueError:
        pass
    monkeypatch.setattr(case_module, "normalize_t2", _misread)
    _, levels, brainstem = find_brainstem(t2c, config)
    assert levels.tissue < 0.5  # the second reading
    assert _dice(brainstem.mask, truth) > 0.9


def test_a_good_first_reading_is_kept(phantom_case: PhantomCase):
    t2c = reorient_canonical(phantom_case.t2)
    config = PipelineConfig()
    _, first = normalize_t2(t2c.array, t2c.spacing, params=config.intensity)
    _, levels, _ = find_brainstem(t2c, config)
    assert levels == first


def test_no_brainstem_on_either_reading_is_the_first_readings_error(monkeypatch):
    flat = np.random.default_rng(0).uniform(0.0, 50.0, (40, 40, 40)).astype(np.float32)
    flat[:, :, 20:] += 1000.0  # CSF above, air below: no tissue column anywhere
    volume = Volume(flat, np.diag([0.5, 0.5, 0.5, 1.0]), {})
    with pytest.raises(ValueError, match="no brainstem"):
        find_brainstem(volume, PipelineConfig())
