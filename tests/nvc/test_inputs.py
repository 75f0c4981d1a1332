"""Input checks (``nvc.inputs``): what is refused, what is not, and how it is named."""

from __future__ import annotations

import numpy as np
import pytest

from nvc.inputs import (
    InputCheckParams,
    InputRefused,
    bright_fraction,
    check_inputs,
    structured_blocks,
)
from nvc.phantom import make_case
from nvc.volume import Volume, resample_to
from tests.helpers import with_slices

NOISE_SHAPE = (512, 512, 140)


def _named(vol: Volume, name: str) -> Volume:
    return Volume(vol.array, vol.affine, {**vol.metadata, "source_name": name})


def _padded_by_noise(vol: Volume, shape: tuple[int, int, int], sigma: float) -> Volume:
    """``vol`` in the middle of a ``shape`` field of view of Rician air noise (same spacing)."""
    rng = np.random.default_rng(5)
    re = rng.standard_normal(shape, dtype=np.float32)
    im = rng.standard_normal(shape, dtype=np.float32)
    out = sigma * np.hypot(re, im)
    a = np.asarray(vol.array, np.float32)
    off = [(s - n) // 2 for s, n in zip(shape, a.shape, strict=True)]
    out[tuple(slice(o, o + n) for o, n in zip(off, a.shape, strict=True))] = a
    shift = np.eye(4)
    shift[:3, 3] = -np.asarray(off, float)
    return Volume(out, vol.affine @ shift, vol.metadata)


def test_a_scene_in_a_large_noisy_field_of_view_is_accepted(phantom_case):
    t2 = _padded_by_noise(phantom_case.t2, NOISE_SHAPE, sigma=150.0)
    assert t2.shape == NOISE_SHAPE
    check_inputs(t2, phantom_case.mra)  # the old whole-volume check called this noise


@pytest.mark.parametrize("kind", ["noise", "constant"])
def test_noise_and_constant_images_of_that_size_are_refused(phantom_case, kind):
    rng = np.random.default_rng(2)
    if kind == "noise":
        array = 40.0 * np.hypot(
            rng.standard_normal(NOISE_SHAPE, dtype=np.float32),
            rng.standard_normal(NOISE_SHAPE, dtype=np.float32),
        )
    else:
        array = np.full(NOISE_SHAPE, 7.0, np.float32)
    t2 = _named(Volume(array, phantom_case.t2.affine), "big.nii.gz")
    with pytest.raises(InputRefused, match="noise" if kind == "noise" else "constant") as err:
        check_inputs(t2, phantom_case.mra)
    assert "T2 (big.nii.gz)" in str(err.value) and "\n" not in str(err.value)


def test_thick_t2_slices_are_refused_naming_the_limit(phantom_case):
    thick = _named(with_slices(phantom_case.t2, 2.4), "t2_thick.nii.gz")
    with pytest.raises(InputRefused) as err:
        check_inputs(thick, phantom_case.mra)
    message = str(err.value)
    assert message.startswith("T2 (t2_thick.nii.gz) has 2.40 mm slices"), message
    assert "1.2 mm" in message and "facial nerve" in message


def test_slices_at_the_limit_pass_as_a_header_stores_them(phantom_case):
    """1.2 mm in a NIfTI header reads back as 1.2000000477 mm: that is 1.2 mm."""
    at_limit = with_slices(phantom_case.t2, float(np.float32(1.2)))
    assert np.max(at_limit.spacing) > 1.2
    check_inputs(at_limit, phantom_case.mra)


def test_a_tof_may_have_thicker_slices_than_the_t2_but_not_beyond_2_mm(phantom_case):
    check_inputs(phantom_case.t2, with_slices(phantom_case.mra, 1.5))
    with pytest.raises(InputRefused, match=r"MRA has 2\.40 mm slices .*at most 2\.0 mm"):
        check_inputs(phantom_case.t2, with_slices(phantom_case.mra, 2.4))
    assert InputCheckParams().max_t2_voxel_mm == 1.2


def test_the_same_t2_given_twice_is_refused(phantom_case):
    t2 = _named(phantom_case.t2, "t2.nii.gz")
    with pytest.raises(InputRefused, match="same image") as err:
        check_inputs(t2, t2)
    assert str(err.value).startswith("MRA (t2.nii.gz) is the same image as T2 (t2.nii.gz)")


def test_a_near_copy_of_the_t2_on_the_tof_grid_is_refused(phantom_case):
    copy = resample_to(phantom_case.t2, phantom_case.mra)
    noisy = copy.array + np.random.default_rng(3).normal(0.0, 100.0, copy.shape)
    with pytest.raises(InputRefused, match="same image"):
        check_inputs(phantom_case.t2, copy.with_array(noisy.astype(np.float32)))


def test_an_mra_without_bright_vessels_is_refused(phantom_case):
    mra = phantom_case.mra
    flat = np.minimum(mra.array, np.percentile(mra.array, 90))  # the arteries taken out
    with pytest.raises(InputRefused, match="no bright vessels"):
        check_inputs(phantom_case.t2, _named(mra.with_array(flat), "flat.nii.gz"))


def test_the_phantom_pair_is_accepted(phantom_case):
    check_inputs(phantom_case.t2, phantom_case.mra)


def test_a_noisy_tof_whose_arteries_stand_out_is_accepted():
    """At 1.5 T noise lifts a TOF's background over the bright level; its arteries still show.

    A wide-variety phantom at SNR 8 (seed 5003): 16 % of its TOF is "bright".
    """
    case = make_case(5003, "wide")
    values = structured_blocks(case.mra, block_mm=16.0, min_structure=0.3).values
    assert bright_fraction(values, InputCheckParams().bright_of_peak) >= 0.08
    check_inputs(case.t2, case.mra)
