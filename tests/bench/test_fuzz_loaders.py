"""A small run of ``bench/fuzz_loaders.py`` (the README gives the 10,000-input command)."""

from __future__ import annotations

from bench.fuzz_loaders import fuzz


def test_fuzzed_inputs_load_or_are_refused_cleanly(tmp_path):
    res = fuzz(300, seed=12345, save=tmp_path / "failures")
    assert res.total == 300
    assert res.n_unexpected == 0, res.unexpected
    refused = sum(v for k, v in res.counts.items() if k.startswith("refused"))
    assert res.counts["loaded"] > 30 and refused > 100, res.counts
    assert res.peak_rss_mb < 1000
