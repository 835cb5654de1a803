import json

import numpy as np
import pytest

from distiller.data import DataError, box_cells, box_mask, load_prepared
from distiller.toy_cohort import write_toy_prepared


def test_reads_a_prepared_directory(tmp_path):
    write_toy_prepared(tmp_path, count=10, size=32, seed=1)
    p = load_prepared(tmp_path)
    assert p.size == 32 and p.images.shape == (10, 32, 32)
    assert {e.split for e in p.entries} == {"region-train", "region-test", "record"}
    b = p.batch([0, 3])
    assert b.shape == (2, 1, 32, 32) and b.dtype == np.float32 and 0 <= b.min() and b.max() <= 1


def test_box_cells_take_the_cells_whose_centres_are_inside():
    # stride 4: cell j has centre 4j + 2. Box x in [4, 12) holds centres 6 and 10 -> cells 1, 2.
    rows, cols = box_cells((4, 0, 12, 4), 4, 8, 8)
    assert (cols.start, cols.stop) == (1, 3)
    assert (rows.start, rows.stop) == (0, 1)


def test_a_box_smaller_than_a_cell_marks_the_cell_holding_its_centre():
    rows, cols = box_cells((5, 9, 6, 10), 4, 8, 8)  # no centre inside; centre (5.5, 9.5)
    assert (cols.start, cols.stop) == (1, 2) and (rows.start, rows.stop) == (2, 3)


def test_box_mask_sets_each_class_channel():
    m = box_mask([("clavicle", (0, 0, 8, 8)), ("rib", (24, 24, 32, 32))], size=32, stride=4)
    assert m.shape == (2, 8, 8)
    assert m[1, 0:2, 0:2].all() and m[1].sum() == 4
    assert m[0, 6:8, 6:8].all() and m[0].sum() == 4


def test_missing_directory_and_bad_files_say_what_is_wrong(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_prepared(tmp_path / "nope")
    write_toy_prepared(tmp_path, count=4, size=16)
    (tmp_path / "images.u8").write_bytes(b"\0" * 10)
    with pytest.raises(DataError, match="holds 10 bytes"):
        load_prepared(tmp_path)


def test_a_bad_index_line_names_its_line(tmp_path):
    write_toy_prepared(tmp_path, count=4, size=16)
    lines = (tmp_path / "index.jsonl").read_text().splitlines()
    d = json.loads(lines[2])
    d["split"] = "holiday"
    lines[2] = json.dumps(d)
    (tmp_path / "index.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"index.jsonl:3: split 'holiday'"):
        load_prepared(tmp_path)
