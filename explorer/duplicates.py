"""One dataset's near-duplicate groups (``duplicates/<key>/``), loaded and checked, and their CSV.

The pipeline joined pairs of images closer than a calibrated threshold (aligned cosine
distance) into groups; :class:`Duplicates` holds the groups, the pairs and every member's
image (training images the test sample set lacks included), and answers the "Duplicates"
tab's questions: which groups (all, or those whose labels differ), and the CSV.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import CacheError
from core.store import ArtifactStore

CSV_HEADER = ["group", "labels_differ", "id", "split", "row", "label", "label_name", "group_distance"]
SPLITS = ("train", "test")


@dataclass(frozen=True, eq=False)
class Duplicates:
    """``duplicates.json``'s content, checked, and ``images`` uint8 (m, h, w[, 3]): member images by their ``image``."""

    folder: Path
    data: dict
    images: np.ndarray

    @classmethod
    def load(cls, folder: Path, artifacts: ArtifactStore, ds: Any) -> "Duplicates":
        """Read one folder and check it against ``ds`` (a :class:`~explorer.views.DatasetView`: ``n``, ``class_names``).

        Raises
        ------
        core.store.CacheError
            If a file is missing or damaged, or a group names a row, class, split or image that is not there.
        """
        folder = Path(folder)
        data = artifacts.read_json(folder / "duplicates.json")
        images = artifacts.load_array(folder / "images.npy")
        k = len(ds.class_names)

        def bad(what: str) -> CacheError:
            return CacheError(f"{folder / 'duplicates.json'}: {what}; rerun the pipeline")

        if not isinstance(data, dict) or not isinstance(data.get("groups"), list) or not isinstance(
                data.get("threshold"), (int, float)):
            raise bad("no groups or threshold")
        for g in data["groups"]:
            members = g.get("members") if isinstance(g, dict) else None
            if not isinstance(members, list) or len(members) < 2:
                raise bad(f"group {g.get('group') if isinstance(g, dict) else g!r} has fewer than 2 members")
            for mb in members:
                row, image, label = mb.get("row"), mb.get("image"), mb.get("label")
                if row is not None and not (isinstance(row, int) and 0 <= row < ds.n):
                    raise bad(f"a member's row {row!r} is not a row of the {ds.n} samples")
                if not (isinstance(image, int) and 0 <= image < len(images)):
                    raise bad(f"a member's image {image!r} is not one of the folder's {len(images)} images")
                if not (isinstance(label, int) and 0 <= label < k) or mb.get("split") not in SPLITS:
                    raise bad(f"a member's label {label!r} or split {mb.get('split')!r} is not valid")
        return cls(folder, data, images)

    @property
    def threshold(self) -> float:
        return float(self.data["threshold"])

    @property
    def counts(self) -> dict:
        return dict(self.data.get("counts") or {})

    @property
    def calibration(self) -> dict:
        return dict(self.data.get("calibration") or {})

    def groups(self, mixed_only: bool = False) -> list[dict]:
        """The groups in the folder's order (differing labels first, then larger, then closer)."""
        return [g for g in self.data["groups"] if g.get("labels_differ") or not mixed_only]

    def rule_words(self) -> str:
        """How the threshold was chosen, in a sentence for the tab."""
        cal = self.calibration
        if cal.get("bound") == "given":
            return f"Threshold {self.threshold:.4f}, given on the command line."
        found = cal.get("planted_found")
        which = {"planted": "the planted near-copies' quantile", "guard": "the guard quantile"}.get(cal.get("bound"), "")
        return (f"Threshold {self.threshold:.4f}: {cal.get('rule', 'calibrated')}; {which} was the smaller"
                + (f", and {100 * float(found):.0f}% of the planted copies fall under it." if found is not None else "."))


def duplicates_csv(dup: Duplicates, class_names: list[str], mixed_only: bool = False) -> str:
    """One line per group member: group, whether its labels differ, id, split, row, label, the group's largest distance."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_HEADER)
    for g in dup.groups(mixed_only):
        for mb in g["members"]:
            w.writerow([g["group"], int(bool(g.get("labels_differ"))), mb["id"], mb["split"],
                        "" if mb["row"] is None else mb["row"], mb["label"], class_names[mb["label"]],
                        g.get("distance", "")])
    return out.getvalue()
