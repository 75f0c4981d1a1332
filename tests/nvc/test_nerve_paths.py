"""The cheapest-path search stops early with the full search's answer."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.graph import MCP_Geometric

from nvc.nerves.paths import cheapest_path, length


def _full_search(cost, sp, targets, seeds):
    """The reference: the whole front, then the cheapest seed."""
    mcp = MCP_Geometric(cost, sampling=tuple(sp))
    cum, _ = mcp.find_costs(np.argwhere(targets))
    cand = np.where(seeds, cum, np.inf)
    end = np.unravel_index(int(np.argmin(cand)), cand.shape)
    path = np.array(mcp.traceback(end), float)[::-1]
    return path, float(cand[end]) / max(length(path, sp), 1e-6)


@pytest.mark.parametrize("levels", [None, 3])
def test_cheapest_path_is_the_full_searchs(levels):
    rng = np.random.default_rng(11)
    sp = np.array([0.5, 0.6, 0.7])
    for _ in range(5):
        cost = rng.random((23, 19, 15)) * 10 + 0.05
        if levels is not None:  # a few cost values: many paths of equal cost (ties)
            cost = np.round(cost / 10 * levels) + 1.0
        targets = np.zeros(cost.shape, bool)
        targets[18:21, 3:8, 4:9] = True
        seeds = rng.random(cost.shape) < 0.01
        seeds[:6] = False
        seeds[:4, 10:, 8:] = True
        path, mean_cost = cheapest_path(cost, sp, targets, seeds)
        ref_path, ref_cost = _full_search(cost, sp, targets, seeds)
        np.testing.assert_array_equal(path, ref_path)
        assert mean_cost == ref_cost
