"""Shared by the browserless explorer tests: the store and client fixtures, decoders, ``dash_post``.

The test files import the fixtures by name (``from explorer_helpers import client, store``), so
pytest finds them in each module; both are module-scoped, one per test file as before the split.
"""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer.state import COLOUR_LABELS, COLOURS
from explorer.store import ExplorerStore
from core.store import ArtifactStore

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def store(explorer_cache) -> ExplorerStore:
    return ExplorerStore(ArtifactStore(explorer_cache))


@pytest.fixture(scope="module")
def client(explorer_app):
    return explorer_app.server.test_client()


#: the imported datasets of :func:`imported_cache`: RGB 32x32 of 20 classes (the user's embeddings), and
#: grey 20x40 of 100 classes seen through raw pixels and embeddings, with a dot in its name
IMPORTED = [{"name": "own", "title": "Own photos", "shape": (32, 32, 3), "classes": 20},
            {"name": "wide.grey", "shape": (20, 40, 1), "classes": 100, "models": ("pixels", "given"),
             "colour": "#e15759"}]


@pytest.fixture(scope="module")
def imported_cache(tmp_path_factory) -> Path:
    """MNIST and Fashion-MNIST (300 points each) beside the two imported datasets of :data:`IMPORTED`."""
    from synthetic.cache import write_synthetic_cache

    root = tmp_path_factory.mktemp("imported-cache")
    write_synthetic_cache(root, n=300, seed=0, imported=IMPORTED)
    return root


@pytest.fixture(scope="module")
def imported_app(imported_cache):
    from explorer.app import create_app

    return create_app(ArtifactStore(imported_cache))


def png_array(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def decode_typed(spec: dict) -> np.ndarray:
    dtype = {"f4": np.float32, "f8": np.float64, "i4": np.int32, "u1": np.uint8, "u2": np.uint16}[spec["dtype"]]
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=dtype)


def trace_rows(fig: dict, k: int) -> np.ndarray:
    """int64 rows of trace ``k`` of a 2-D scatter: its ``customdata``, else the rows ``layout.meta.groups``
    gives it (trace ``k`` holds group ``k``'s rows, ascending)."""
    tr = fig["data"][k]
    if "customdata" in tr:
        return decode_typed(tr["customdata"]).astype(np.int64)
    return np.flatnonzero(decode_typed(fig["layout"]["meta"]["groups"]) == k)


def trace_xy(fig: dict, k: int) -> np.ndarray:
    """float64 (m, 2) data coordinates of trace ``k``'s points, decoded from plot units by ``layout.meta.grid``."""
    tr, g = fig["data"][k], fig["layout"]["meta"]["grid"]
    xy = np.column_stack([decode_typed(tr["x"]), decode_typed(tr["y"])]).astype(np.float64)
    return xy * g["step"] + np.array([g["x0"], g["y0"]])


# -- callbacks posted as the browser would -------------------------------------------------------
def _specs(key: str) -> list[tuple[str, str]]:
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [tuple(p.rsplit(".", 1)) for p in parts]


def dash_post(client, app, name: str, values: dict, datasets: tuple = ("mnist",), changed: list | None = None,
              raw: bool = False, headers: dict | None = None):
    """POST the callback called ``name`` as the browser would, with ``values`` by ``"id.prop"``.

    Pattern-matching (ALL) ids expand to one entry per dataset in ``datasets``; their
    value in ``values`` is a ``{dataset: value}`` dict.
    """
    key, cb = next((k, v) for k, v in app.callback_map.items()
                   if getattr(v.get("callback"), "__name__", None) == name)

    def expand(id_: str, prop: str, with_value: bool):
        if id_.startswith("{"):
            pat = json.loads(id_)
            vals = values.get(f"{pat['type']}.{prop}", {})
            return [{"id": {**pat, "dataset": d}, "property": prop,
                     **({"value": vals.get(d)} if with_value else {})} for d in datasets]
        return {"id": id_, "property": prop, **({"value": values.get(f"{id_}.{prop}")} if with_value else {})}

    body = {"output": key, "outputs": [expand(i, p, False) for i, p in _specs(key)],
            "inputs": [expand(s["id"], s["property"], True) for s in cb["inputs"]],
            "state": [expand(s["id"], s["property"], True) for s in cb["state"]],
            "changedPropIds": changed if changed is not None else [next(iter(values))]}
    if len(body["outputs"]) == 1 and not key.startswith(".."):
        body["outputs"] = body["outputs"][0]
    return client.post("/_dash-update-component", json=body, headers=headers or {})


GOOD = {"tabs.value": "explore", "ctl-dataset.value": "mnist", "ctl-model.value": "cnn", "ctl-proj.value": "umap",
        "ctl-colour.value": "true", "ctl-model2.value": "pixels", "ctl-proj2.value": "tsne",
        # every colouring: the synthetic CNN has label issues and a faithfulness folder for its UMAP layout
        "ctl-colour.options": [{"label": COLOUR_LABELS[c], "value": c} for c in COLOURS]}


def response_of(r, output: str):
    """The value a callback response sets on ``"id.prop"`` (``None`` when it sets nothing there)."""
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    id_, prop = output.rsplit(".", 1)
    return r.json["response"].get(id_, {}).get(prop)
