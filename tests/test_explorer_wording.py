"""What the explorer's words say agrees with what it shows (issue 26): the contact sheet's captions keep
the confidence, the detail panel names the 3-D layout on screen, one model's accuracy reads the same in
every view, the top-3 probabilities never add up past 100 %, and a label gets a suggested one only
where it is in doubt."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from explorer import dynamics as D
from explorer.accuracy import Accuracy, accuracy_words, shown_accuracy
from explorer.export import BORDER, CAPTION_PX, LINE_H, _font, contact_sheet, sheet_layout, tile_caption
from explorer.panels import detail_panel, pct, top_pcts
from explorer.store import DatasetView
from explorer.views import ModelView
from explorer_helpers import GOOD, client, dash_post, png_array, response_of, store  # noqa: F401
from test_explorer_models import components


# -- the contact sheet's captions ------------------------------------------------------------------
def caption_fits(m: ModelView):
    """Whether a caption line fits a sheet's tile, measured as :func:`contact_sheet` measures it."""
    draw, font = ImageDraw.Draw(Image.new("RGB", (1, 1))), _font(CAPTION_PX)
    width = sheet_layout(m.ds.grid, 1).cell[0]
    return lambda text: draw.textlength(text, font=font) <= width


def test_every_caption_shows_the_predicted_class_and_its_confidence(store):
    m = store.get("fashion-mnist").model("cnn")
    fits, shortened = caption_fits(m), set()
    for r in range(m.ds.n):
        first, second = tile_caption(m, r, fits)
        assert fits(first) and fits(second)
        assert first.startswith(f"#{int(m.ds.sample_ids[r])} ")
        conf = pct(m.confidence[r])
        assert second.startswith("pred ") and second.endswith(f" {conf}")
        name, full = second[len("pred "):-len(conf) - 1], m.ds.class_names[int(m.pred[r])]
        assert name == full or (name.endswith("…") and full.startswith(name[:-1]) and len(name) > 2)
        if name != full:
            shortened.add(full)
    assert "T-shirt/top" in shortened  # the tester's "pred T-shirt/top …": now cut in the name, not the number
    # narrower still: the name goes down to a letter, then "pred" goes; the confidence always stays
    row = int(np.flatnonzero(m.pred == 0)[0])
    conf = pct(m.confidence[row])
    for room, start in ((14, "pred T-sh… "), (11, "pred T… "), (6, "T… ")):
        assert tile_caption(m, row, lambda t: len(t) <= room)[1] == start + conf
    given = m.ds.class_names[int(m.ds.labels[row])]
    assert tile_caption(m, row, lambda t: len(t) <= 20)[0] == f"#{int(m.ds.sample_ids[row])} {given}"


def test_the_drawn_sheet_changes_where_only_the_confidence_does(store, monkeypatch):
    m = store.get("fashion-mnist").model("cnn")
    row = int(np.flatnonzero(m.pred == 0)[0])  # predicted T-shirt/top, the longest name
    conf = m.confidence.copy()
    other = conf.copy()
    other[row] = 0.31 if pct(conf[row]) != "31%" else 0.47

    def sheet(confidence: np.ndarray) -> np.ndarray:
        monkeypatch.setattr(ModelView, "confidence", property(lambda self: confidence))
        return png_array(contact_sheet(m, [row], "one image"))
    a, b = sheet(conf), sheet(other)
    lay = sheet_layout(m.ds.grid, 1)
    second_line = lay.box(0)[1] + lay.tile[1] + BORDER + 1 + LINE_H
    changed = np.flatnonzero((a != b).any(axis=(1, 2)))
    # only the caption's second line differs: the title, the image and the first line are the same
    assert len(changed) and changed.min() >= second_line and changed.max() < second_line + 2 * LINE_H


# -- the detail panel in 3-D -----------------------------------------------------------------------
def kept_3d(m: ModelView, layout: str, row: int, k: int = 10) -> int:
    """Of ``row``'s k nearest neighbours in the 3-D layout (brute force), how many are among its k in the embedding."""
    xyz = m.coords(layout, dims=3).astype(np.float64)
    d = np.linalg.norm(xyz - xyz[row], axis=1)
    d[row] = np.inf
    return len(set(np.argsort(d, kind="stable")[:k].tolist()) & set(m.knn[row][:k].tolist()))


def faith_line(client, app, values: dict, row: int) -> dict:
    r = dash_post(client, app, "render_detail", {**values, "ex-clicked.data": {"ds": "mnist", "row": row}},
                  changed=["ex-clicked.data"])
    (line,) = [c for c in components(response_of(r, "ex-detail.children"), "detail-line")
               if c["props"].get("id") == "detail-faith"]
    return line


@pytest.mark.parametrize("proj, shown", [("tsne", "pca"), ("umap", "umap")])
def test_the_detail_panel_names_the_3d_layout_on_screen(client, explorer_app, store, proj, shown):
    m = store.get("mnist").model("cnn")
    assert "tsne" not in m.projection3d_dirs and "umap" in m.projection3d_dirs  # t-SNE falls back to PCA
    values = {**GOOD, "ctl-proj.value": proj, "ctl-dims.value": 3}
    r = dash_post(client, explorer_app, "render_3d", values, changed=["ctl-dims.value"])
    title = {"pca": "PCA", "umap": "UMAP"}[shown]
    assert response_of(r, "ex-scatter3d-fig.data")["figure"]["layout"]["title"]["text"].endswith(f"{title} in 3-D")
    assert ("showing the 3-D PCA" in response_of(r, "ex-scatter3d-note.children")) == (proj != shown)
    for row in (0, 5, 57, 299):
        line = faith_line(client, explorer_app, values, row)
        kept = kept_3d(m, shown, row)
        assert line["props"]["data-kept"] == str(kept)
        assert line["props"]["children"][0]["props"]["children"] == f"{kept} of its 10"
        assert line["props"]["children"][1].startswith(" nearest neighbours in the space of CNN are among its 10 "
                                                       f"nearest in this 3-D {title}")
    # in 2-D the same click names the 2-D layout, whose faithfulness the pipeline measured
    line = faith_line(client, explorer_app, {**values, "ctl-dims.value": 2}, 57)
    label = {"tsne": "t-SNE", "umap": "UMAP"}[proj]
    assert f" nearest in this {label}" in line["props"]["children"][1]


# -- one accuracy, one rule ------------------------------------------------------------------------
@pytest.mark.parametrize("fraction, n, words", [
    (np.float32(0.9945), 10_000, "99.45% of 10,000 test images"),  # a float32 0.9945 is 0.99449998: 9,945 right
    (0.99999, 100_000, "99.99% of 100,000 test images"),  # never a false 100 %
    (0.00001, 100_000, "0.01% of 100,000 test images"),  # nor a false 0 %
    (1.0, 300, "100.00% of 300 test images"),
    (0.12345, 2000, "12.35% of 2,000 test images"),  # half up
    (np.float32(0.96333333), 300, "96.33% of 300 test images"),  # 289 of 300, as epochs.json holds it
])
def test_an_accuracy_is_written_one_way(fraction, n, words):
    assert accuracy_words(fraction, n) == words
    assert Accuracy.of(fraction, n, "tracked test images").words == words.replace("test", "tracked test")


@pytest.mark.parametrize("model", ["cnn", "mlp"])
def test_one_models_accuracy_reads_the_same_in_every_view(client, explorer_app, store, model):
    m = store.get("mnist").model(model)
    right, n = int((m.ds.labels == m.pred).sum()), m.ds.n
    words = f"{100 * right / n:.2f}% of {n} test images"
    assert right < n and shown_accuracy(m).words == words
    values = {**GOOD, "ctl-model.value": model}
    # Explore: the confusion matrix's title
    fig = response_of(dash_post(client, explorer_app, "render_confusion", values), "ex-confusion.figure")
    assert fig["layout"]["title"]["text"].endswith(f"accuracy {words}")
    # Compare datasets: the dataset's card
    body = dash_post(client, explorer_app, "render_datasets", {**values, "tabs.value": "datasets"},
                     datasets=("mnist", "fashion-mnist"), changed=["tabs.value"]).json["response"]
    assert f'"{words}"' in json.dumps(body["cd-report"]["children"], ensure_ascii=False)
    # Compare models: the models table (the images in the header, the figure in the cell)
    r = dash_post(client, explorer_app, "render_models_table", {**values, "tabs.value": "projections"},
                  changed=["tabs.value"])
    table = json.dumps(response_of(r, "cp-models.children"), ensure_ascii=False)
    assert f"Test accuracy (of {n} test images)" in table and f'"{100 * right / n:.2f}%"' in table
    # Training dynamics: after the last epoch, the fit's accuracy over the whole test set
    last = len(D.steps(store, model)) - 1
    r = dash_post(client, explorer_app, "render_dynamics_charts",
                  {**values, "tabs.value": "dynamics", "dy-frame.value": last, "dy-pair.value": {"mnist": "4-9"}},
                  changed=["ctl-model.value"])
    response = r.json["response"]
    stats = next(v["children"] for k, v in response.items() if "dy-stats" in k)
    assert f" · test accuracy {words} · " in stats
    chart = next(v["figure"] for k, v in response.items() if "dy-chart" in k)
    assert chart["data"][0]["customdata"][-1] == words
    # before the first epoch ends the accuracy is the tracked images' own, and says so
    dyn = m.dynamics
    first = D.stats_line(m, 0, (4, 9))
    assert first.startswith(f"untrained · test accuracy {100 * dyn.rows_json[0]['test_accuracy']:.2f}% of "
                            f"{dyn.m} tracked test images · ")


# -- the top-3 probabilities -----------------------------------------------------------------------
def check_top3(probs) -> list[str]:
    """:func:`top_pcts` of ``probs``, checked: never past 100 % together, in order, each within its last digit."""
    words = top_pcts(probs)
    shown = []
    for w, p in zip(words, probs):
        v, number = 100 * float(p), float(w.strip("<>%"))
        digits = len(w.rstrip("%").partition(".")[2])
        if w.startswith("<"):
            assert 0 < v < number, (w, p)
            shown.append(0.0)
        elif w.startswith(">"):
            assert v > number, (w, p)
            shown.append(number)
        else:
            assert abs(number - v) <= 10 ** -digits + 1e-6, (w, p)
            shown.append(number)
    assert sum(shown) <= 100 + 1e-9, words
    assert shown == sorted(shown, reverse=True), words
    return words


@pytest.mark.parametrize("probs, words", [
    ([0.99985, 0.0001, 0.00005], None),
    (np.float32([0.99985, 0.0001, 0.00005]), None),
    (np.float32([1.0, 5e-5, 4e-5]), [">99.99%", "<0.01%", "<0.01%"]),  # the tester's "Bag 100 %, 0.01 %, 0.01 %"
    ([0.335, 0.335, 0.33], ["34%", "33%", "33%"]),  # rounded: 34 + 34 + 33
    ([0.9951, 0.0045, 0.0004], None),
    ([0.996, 0.004, 0.0], ["99.6%", "0.4%", "0%"]),  # what adds up stays as pct writes it
    ([0.934, 0.05, 0.016], ["93%", "5%", "2%"]),
])
def test_the_top3_never_add_up_past_100(probs, words):
    got = check_top3(probs)
    assert words is None or got == words


def test_random_top3s_never_add_up_past_100():
    rng = np.random.default_rng(26)
    for alpha in (0.005, 0.05, 0.5, 5.0):
        for p in rng.dirichlet([alpha] * 10, size=500).astype(np.float32):
            check_top3(np.sort(p)[::-1][:3])


def one_sample_view(tmp_path, proba: list[float]) -> ModelView:
    """A dataset of two samples whose model gives row 0 the probabilities ``proba`` (row 1: uniform)."""
    n, k = 2, len(proba)
    for d in ("s", "e"):
        (tmp_path / d).mkdir()
    np.save(tmp_path / "s" / "labels.npy", np.zeros(n, np.uint8))
    np.save(tmp_path / "s" / "index.npy", np.arange(n, dtype=np.int64))
    np.save(tmp_path / "s" / "images.npy", np.zeros((n, 28, 28), np.uint8))
    np.save(tmp_path / "e" / "proba.npy", np.array([proba, [1 / k] * k], np.float32))
    np.save(tmp_path / "e" / "pred.npy", np.zeros(n, np.uint8))
    np.save(tmp_path / "e" / "knn-indices.npy", np.array([[1], [0]], np.int32))
    ds = DatasetView(name="tiny", title="Tiny", class_names=[f"c{i}" for i in range(k)], sample_set="test",
                     n=n, samples_dir=tmp_path / "s")
    return ds.add_model("cnn", "CNN", "cnn", embed_dir=tmp_path / "e", model_dir=tmp_path, projection_dirs={})


def bar_values(node) -> list[str]:
    """The texts of the detail panel's ``bar-value`` spans, in order."""
    if isinstance(node, (list, tuple)):
        return [t for c in node for t in bar_values(c)]
    if not hasattr(node, "children"):
        return []
    own = [node.children] if "bar-value" in str(getattr(node, "className", "") or "") else []
    return own + bar_values(node.children if node.children is not None else [])


def test_the_detail_panel_shows_the_top3_as_they_add_up(tmp_path):
    m = one_sample_view(tmp_path, [0.99985, 0.0001, 0.00005, 0, 0, 0, 0, 0, 0, 0])
    words = bar_values(detail_panel(m, 0))
    assert words == top_pcts(np.float32([0.99985, 0.0001, 0.00005])) and words[0] == "99.98%"
    assert words[2] == "<0.01%"  # 0.005 %: pct's "0.01%" would make it 100.00 % with a top one read up


# -- the suggested label ---------------------------------------------------------------------------
def issue_line(client, app, row: int) -> dict:
    r = dash_post(client, app, "render_detail", {**GOOD, "ex-clicked.data": {"ds": "mnist", "row": row}},
                  changed=["ex-clicked.data"])
    (line,) = [c for c in components(response_of(r, "ex-detail.children"), "detail-line")
               if c["props"].get("id") == "detail-issue"]
    return line


def test_a_label_gets_a_suggested_one_only_where_it_is_in_doubt(client, explorer_app, store):
    m = store.get("mnist").model("cnn")
    issues = m.issues
    assert issues.threshold == 0.5  # the synthetic folder records none: the pipeline's default
    sure = int(np.flatnonzero(~issues.suspect & (issues.score > 0) & (issues.score <= issues.threshold))[0])
    doubted = int(issues.rows[0])  # the top-ranked suspect
    # every row has a suggested label, another class than the given one: shown for a sure one it misleads
    assert issues.suggested[sure] != m.ds.labels[sure] and m.pred[sure] == m.ds.labels[sure]
    line = issue_line(client, explorer_app, sure)
    text = json.dumps(line, ensure_ascii=False)
    assert "suggested label" not in text and "the given label is not in doubt" in text
    assert f"{float(issues.score[sure]):.2f}" in text and "above 0.50" in line["props"]["title"]
    line = issue_line(client, explorer_app, doubted)
    text = json.dumps(line, ensure_ascii=False)
    parts = line["props"]["children"]
    assert parts[2] == " · suggested label "
    assert parts[3]["props"]["children"] == m.ds.class_names[issues.suggested[doubted]]
    assert "bad" in line["props"]["className"]
    # doubt is the ranked suspects' rule: flagged, or scored above the folder's threshold
    lower = dataclasses.replace(issues, config={**issues.config, "threshold": float(issues.score[sure]) / 2})
    assert lower.in_doubt(sure) and not issues.in_doubt(sure)
    unflagged = dataclasses.replace(issues, suspect=np.zeros_like(issues.suspect))
    assert unflagged.in_doubt(doubted) and issues.score[doubted] > issues.threshold
    assert all(issues.in_doubt(r) for r in issues.rows)
