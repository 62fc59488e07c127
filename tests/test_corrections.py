"""The corrections log (core/corrections.py): labels after relabels, marks and undos; two writers at once;
export and re-import; bad files refused whole, naming the row."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from core.corrections import CorrectionLog, CorrectionsError, SampleKeys, corrected, states, train_fixes

NAMES = ["zero", "one", "two", "three"]
SIZES = {"train": 50, "test": 20}


def log_at(root) -> CorrectionLog:
    return CorrectionLog(root, "toy", NAMES, SIZES)


def labels_after(log: CorrectionLog, original: np.ndarray) -> np.ndarray:
    keys = SampleKeys(np.arange(len(original)), "test", 50)
    return corrected(original, keys, log.entries())


def test_relabel_mark_and_undo(tmp_path):
    log, original = log_at(tmp_path), np.array([0, 1, 2, 3] * 5, np.uint8)
    made = log.append([{"split": "test", "index": 4, "new": 2, "action": "relabel"},
                       {"split": "test", "index": 5, "new": 3, "action": "accept"}],
                      original={("test", i): int(v) for i, v in enumerate(original)})
    assert [e.old for e in made] == [0, 1] and made[0].batch == made[1].batch
    log.append([{"split": "test", "index": 6, "action": "confirmed"}], original={("test", 6): 2})
    after = labels_after(log, original)
    assert after[4] == 2 and after[5] == 3 and after[6] == 2
    assert (np.delete(after, [4, 5]) == np.delete(original, [4, 5])).all()
    assert states(log.entries())[("test", 6)].action == "confirmed"
    undone = log.undo(batch=made[0].batch)
    assert [(e.index, e.old, e.new, e.undoes) for e in undone] == [(5, 3, 1, 2), (4, 2, 0, 1)]
    assert (labels_after(log, original) == original).all()
    assert log.path.read_text().count("\n") == 5  # nothing rewritten: the undo is two entries more


def test_a_later_relabel_survives_undoing_an_earlier_one(tmp_path):
    log, original = log_at(tmp_path), np.zeros(20, np.uint8)
    first = log.append([{"split": "test", "index": 1, "new": 1}], original={("test", 1): 0})
    log.append([{"split": "test", "index": 1, "new": 3}])
    log.undo(seqs=[first[0].seq])
    assert labels_after(log, original)[1] == 3


def _write_many(root, who: int, n: int) -> None:
    log = log_at(root)
    for i in range(n):
        log.append([{"split": "train", "index": (who * n + i) % 50, "new": who % 4}], original={})


def test_two_writers_at_once_lose_nothing(tmp_path):
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import test_corrections as t; " \
           f"t._write_many({str(tmp_path)!r}, int(sys.argv[1]), 25)"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(w)], cwd=Path(__file__).parent.parent) for w in (2, 3)]
    threads = [threading.Thread(target=_write_many, args=(tmp_path, w, 25)) for w in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [p.wait(60) for p in procs] == [0, 0]
    entries = log_at(tmp_path).entries()
    assert [e.seq for e in entries] == list(range(1, 101))
    assert len({e.batch for e in entries}) == 100


def test_export_and_reimport_give_the_same_labels(tmp_path):
    log, original = log_at(tmp_path / "a"), np.array([0, 1, 2, 3] * 5, np.uint8)
    made = log.append([{"split": "test", "index": i, "new": 3} for i in range(3)],
                      original={("test", i): int(v) for i, v in enumerate(original)})
    log.append([{"split": "train", "index": 7, "new": 1, "old": 0}])
    log.undo(seqs=[made[1].seq])
    for fmt in ("csv", "json"):
        path = tmp_path / f"out.{fmt}"
        path.write_text(log.to_csv() if fmt == "csv" else log.to_json())
        fresh = log_at(tmp_path / fmt)
        assert len(fresh.import_file(path)) == 5
        assert (labels_after(fresh, original) == labels_after(log, original)).all()
        assert train_fixes(fresh.entries()) == {7: 1}
        assert fresh.import_file(path) == []  # a second import adds nothing
    assert json.loads((tmp_path / "out.json").read_text())["corrections"][0]["new"] == "three"


@pytest.mark.parametrize("row, words", [
    ("5,toy,test,99,zero,one,relabel", "line 3: no test image '99'"),
    ("5,toy,test,3,zero,seven,relabel", "line 3: new label 'seven' is not a class of toy"),
    ("5,other,test,3,zero,one,relabel", "line 3: the row is of dataset 'other', not toy"),
    ("5,toy,test,3,zero", "line 3: 7 values expected"),
    ("5,toy,test,3,zero,one,shout", "line 3: unknown action 'shout'"),
    ("5,toy,valid,3,zero,one,relabel", "line 3: split 'valid' is not one of"),
])
def test_a_bad_row_refuses_the_whole_file(tmp_path, row, words):
    path = tmp_path / "bad.csv"
    path.write_text("seq,dataset,split,index,old,new,action\n4,toy,test,1,zero,two,relabel\n" + row + "\n")
    log = log_at(tmp_path)
    with pytest.raises(CorrectionsError, match=words.replace("(", r"\(")) as e:
        log.import_file(path)
    assert str(path) in str(e.value)
    assert not log.path.exists()  # the good first row was not applied either


def test_a_damaged_log_is_named(tmp_path):
    log = log_at(tmp_path)
    log.append([{"split": "test", "index": 1, "new": 1, "old": 0}])
    with log.path.open("a") as f:
        f.write('{"seq": 2, "split": "test"\n')
    with pytest.raises(CorrectionsError, match="corrections.jsonl, line 2 is not JSON"):
        log_at(tmp_path).entries()


def test_sample_keys_name_the_same_image_in_either_sample_set():
    full = SampleKeys(np.arange(70), "all", 50)
    test = SampleKeys(np.arange(20), "test", 50)
    assert full.key(3) == ("train", 3) and full.key(55) == ("test", 5) == test.key(5)
    assert full.row("test", 5) == 55 and test.row("train", 3) is None
