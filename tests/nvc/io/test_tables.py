"""TSV tables and label tables read back what the writers wrote."""

from __future__ import annotations

import numpy as np
import pytest

from nvc.io import read_label_table, read_tsv, save_label_map
from nvc.labels import LABEL_TABLE
from nvc.volume import Volume


def test_label_table_round_trip(tmp_path):
    labels = Volume(np.zeros((3, 3, 3), np.uint8), np.eye(4))
    path = save_label_map(labels, tmp_path / "labels.nii.gz")
    assert read_label_table(path) == LABEL_TABLE
    assert read_label_table(tmp_path / "labels.tsv") == LABEL_TABLE


def test_read_tsv_rows_and_errors(tmp_path):
    good = tmp_path / "a.tsv"
    good.write_text("x\ty\n1\t2\n\n3\t4\n")
    assert read_tsv(good) == [{"x": "1", "y": "2"}, {"x": "3", "y": "4"}]
    bad = tmp_path / "b.tsv"
    bad.write_text("x\ty\n1\n")
    with pytest.raises(ValueError, match="line 2"):
        read_tsv(bad)
    bad_table = tmp_path / "c.tsv"
    bad_table.write_text("index\tname\tabbreviation\tcolor\n1\tbrainstem\tBS\tnot-a-colour\n")
    with pytest.raises(ValueError, match="malformed"):
        read_label_table(bad_table)
