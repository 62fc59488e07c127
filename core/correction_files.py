"""Reading an exported corrections file (CSV, or JSON by its first character) back as rows to add to a
dataset's log (:mod:`core.corrections`), refusing the whole file at the first row it cannot read."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from core.errors import CorrectionsError

#: the columns of an exported CSV (a file to import needs split, index and new at least)
COLUMNS = ("seq", "time", "dataset", "split", "index", "old", "new", "action", "batch", "undoes")


def parse_file(path: Path, dataset: str | None) -> list[tuple[str, dict]]:
    """``(where, row)`` of each entry of an exported corrections file (CSV, or JSON by its first character).

    Checks the file's shape and its dataset (``None``: any); each row's values are checked as the log takes them.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CorrectionsError(f"--corrections {path}: no such file; give the CSV or JSON the explorer's "
                               "'Export corrections' wrote") from None
    except (UnicodeDecodeError, OSError) as e:
        raise CorrectionsError(f"--corrections {path}: not a readable text file ({type(e).__name__}); "
                               "give the CSV or JSON the explorer exported") from None
    if text.lstrip().startswith(("{", "[")):
        rows = _json_rows(path, text)
    else:
        rows = _csv_rows(path, text)
    for where, raw in rows:
        named = raw.get("dataset")
        if named not in (None, "") and dataset is not None and named != dataset:
            raise CorrectionsError(f"{where}: the row is of dataset {_shorter(named)}, not {dataset}; import it "
                                   f"with --dataset {named}")
    return rows


def _json_rows(path: Path, text: str) -> list[tuple[str, dict]]:
    try:
        data = json.loads(text)
    except ValueError as e:
        raise CorrectionsError(f"--corrections {path}: not valid JSON ({e.msg} at line {e.lineno}); "
                               "fix the file or export it again") from None
    entries = data.get("corrections") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise CorrectionsError(f"--corrections {path}: expected a list of corrections (or an object with "
                               "'corrections'); export it again from the explorer")
    named = data.get("dataset") if isinstance(data, dict) else None
    out = []
    for n, raw in enumerate(entries, 1):
        if not isinstance(raw, dict):
            raise CorrectionsError(f"{path}, entry {n}: expected an object; got {_shorter(raw)}")
        out.append((f"{path}, entry {n}", {"dataset": named, **raw} if named else raw))
    return out


def _csv_rows(path: Path, text: str) -> list[tuple[str, dict]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"split", "index", "new"} - set(reader.fieldnames or ())
    if missing:
        raise CorrectionsError(f"--corrections {path}: the header lacks {', '.join(sorted(missing))} (it has "
                               f"{', '.join(reader.fieldnames or ['nothing'])}); a corrections CSV needs split, index "
                               "and new at least")
    out = []
    for raw in reader:
        where = f"{path}, line {reader.line_num}"
        if None in raw or any(v is None for v in raw.values()):
            raise CorrectionsError(f"{where}: {len(reader.fieldnames)} values expected, as the header has; "
                                   "fix the row")
        out.append((where, {k: v.strip() for k, v in raw.items()}))
    return out


def _shorter(value) -> str:
    return repr(value)[:40]
