"""Label corrections in a real headless Chromium (explorer/corrections.py, assets/corrections.js): review
suspects with the keyboard, relabel a point and a selection, undo, reload, two pages at once, the
corrected/original switch against the matrix, export and re-import. Its own cache: the corrections
it writes must not reach the other browser tests."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from core.corrections import CorrectionLog, SampleKeys, corrected, states
from explorer.labels import log_of
from test_explorer_browser import GD, open_app
from test_explorer_browser_a11y import violations


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(url, app) of an explorer over a synthetic cache of its own."""
    from waitress import create_server

    from core.store import ArtifactStore
    from explorer.app import create_app
    from synthetic.cache import write_synthetic_cache

    root = tmp_path_factory.mktemp("corrections-cache")
    write_synthetic_cache(root, n=300, seed=0)
    app = create_app(ArtifactStore(root))
    server = create_server(app.server, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}", app
    server.close()


def base(app, name="fashion-mnist"):
    return app.explorer_store.datasets[name]


def log_states(app, name="fashion-mnist") -> dict[int, tuple[str, int | None]]:
    """{row: (last action, label or None)} as the log on disk says."""
    ds = base(app, name)
    keys = SampleKeys(ds.sample_ids, ds.sample_set, ds.n_train, ds.imported)
    return {keys.row(*s): (st.action, st.label) for s, st in states(log_of(ds).entries()).items()}


def wait_entries(page, app, count, name="fashion-mnist"):
    page.wait_for_function("() => true")  # a turn of the page's loop
    for _ in range(200):
        if len(log_of(base(app, name)).entries()) >= count:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"the log has {len(log_of(base(app, name)).entries())} entries, not {count}")


def matrix(page) -> np.ndarray:
    page.wait_for_function(f"() => {GD.format(sel='#ex-confusion')} && {GD.format(sel='#ex-confusion')}.data.length")
    zs = page.evaluate(f"() => {GD.format(sel='#ex-confusion')}.data.map(t => t.z)")  # the diagonal, the rest
    return sum(np.array([[v or 0 for v in row] for row in z]) for z in zs)


def test_review_suspects_with_the_keyboard_undo_and_reload(page, served):
    url, app = served
    m = base(app).model("cnn")
    ranked = [int(r) for r in m.issues.rows]
    page.goto(f"{url}/?tab=issues&ds=fashion-mnist&model=cnn")
    page.wait_for_selector("#li-grid .issue-card")
    page.locator("#li-grid .issue-card").first.focus()
    page.keyboard.press("a")  # the first suspect takes its suggested label, and the review moves on
    page.wait_for_selector(f"#li-grid .issue-card[data-row='{ranked[0]}'][data-decision]")
    page.wait_for_function(f"() => document.activeElement.dataset.row === '{ranked[1]}'")
    page.keyboard.press("c")  # the second: its label is right
    page.wait_for_function(f"() => document.activeElement.dataset.row === '{ranked[2]}'")
    page.keyboard.press("3")  # the third: relabelled as class 3
    wait_entries(page, app, 3)
    got = log_states(app)
    assert got == {ranked[0]: ("accept", int(m.issues.suggested[ranked[0]])),
                   ranked[1]: ("confirmed", None), ranked[2]: ("relabel", 3)}
    page.wait_for_selector(f"#li-grid .issue-card[data-row='{ranked[2]}'][data-decision]")
    page.keyboard.press("u")  # takes back the last correction only
    wait_entries(page, app, 4)
    assert set(log_states(app)) == {ranked[0], ranked[1]}
    page.wait_for_function(f"() => !document.querySelector(\"#li-grid .issue-card[data-row='{ranked[2]}']"
                           "[data-decision]\")")
    page.reload()  # kept: the log is in the cache
    page.wait_for_selector(f"#li-grid .issue-card[data-row='{ranked[1]}'][data-decision]")
    assert page.locator(f"#li-grid .issue-card[data-row='{ranked[1]}']").get_attribute("data-decision") == \
        "✓ label right"
    assert page.locator("#corr-text").inner_text().startswith("1 label corrected · 1 confirmed right · CNN ")
    assert violations(page) == []  # the bar, its switch and the reviewed cards' badges: WCAG A/AA (axe-core)


def test_relabel_a_point_and_a_selection_and_the_switch_moves_the_matrix(page, served):
    url, app = served
    ds = base(app)
    m = ds.model("cnn")
    row = int(np.flatnonzero(ds.labels == 2)[0])
    open_app(page, url, f"?ds=fashion-mnist&model=cnn&point={row}")
    page.wait_for_selector(f".fix-row[data-fix-row='{row}']")
    page.select_option(".fix-row .fix-select", "4")
    page.click(".fix-row [data-fix=relabel]")
    page.wait_for_selector(".fix-row .fix-note")
    assert log_states(app)[row] == ("relabel", 4)
    # a selection: the confusion cell (true 6, predicted 0), every image of it relabelled as class 0
    cell = [int(r) for r in np.flatnonzero((ds.labels == 6) & (m.pred == 0))]
    open_app(page, url, "?ds=fashion-mnist&model=cnn&cell=6-0")
    page.wait_for_function(f"() => (document.getElementById('focus-count') || {{}}).textContent === '{len(cell)}'")
    page.click("#ex-fix-btn")
    page.wait_for_function("() => document.getElementById('corr-msg').textContent.includes('relabelled')")
    after = log_states(app)
    assert all(after[r] == ("relabel", 0) for r in cell) and after[row] == ("relabel", 4)
    # the matrix counts the corrected labels, and the original ones once switched, exactly
    fixed = corrected(ds.labels, SampleKeys(ds.sample_ids, ds.sample_set, ds.n_train), log_of(ds).entries())
    page.wait_for_function(f"() => {GD.format(sel='#ex-confusion')}.data[0].z[0][0] === "
                           f"{int(np.sum((fixed == 0) & (m.pred == 0)))}")
    want = np.zeros((10, 10), int)
    np.add.at(want, (fixed, m.pred), 1)
    got = matrix(page)
    assert (got == want).all()
    page.check("#corr-labels input[value=original]")
    page.wait_for_function("() => location.search.includes('labels=original')")
    page.wait_for_function(f"() => {GD.format(sel='#ex-confusion')} && {GD.format(sel='#ex-confusion')}.data[1]"
                           f".z[6][0] === {len(cell)}")
    want = np.zeros((10, 10), int)
    np.add.at(want, (ds.labels, m.pred), 1)
    assert (matrix(page) == want).all()
    assert page.locator("#corr-labels input[value=original]").is_checked()


def test_two_pages_at_once_lose_nothing(browser, served):
    url, app = served
    ds = base(app, "mnist")
    ranked = [int(r) for r in ds.model("cnn").issues.rows]
    pages = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        pg = context.new_page()
        pg.goto(f"{url}/?tab=issues&ds=mnist&model=cnn")
        pg.wait_for_selector("#li-grid .issue-card")
        pages.append(pg)
    try:
        # each page reviews its own suspects, keys pressed in turn without waiting for the other's answers
        for i in range(4):
            for p, pg in enumerate(pages):
                pg.locator(f"#li-grid .issue-card[data-row='{ranked[2 * i + p]}']").focus()
                pg.keyboard.press("m")
        wait_entries(pages[0], app, 8, "mnist")
        assert {r: a for r, (a, _) in log_states(app, "mnist").items()} == {r: "ambiguous" for r in ranked[:8]}
    finally:
        for pg in pages:
            pg.context.close()


def test_export_and_reimport(page, served, tmp_path):
    url, app = served
    ds = base(app)
    if not log_of(ds).entries():
        log_of(ds).append([{"split": "test", "index": int(ds.sample_ids[5]), "new": 1}],
                          original={("test", int(ds.sample_ids[5])): int(ds.labels[5])})
    page.goto(f"{url}/?ds=fashion-mnist&model=cnn")
    page.wait_for_selector("#corr-bar:not([style*='none'])")
    for fmt in ("csv", "json"):
        with page.expect_download() as d:
            page.click(f"#corr-{fmt}")
        path = tmp_path / f"c.{fmt}"
        d.value.save_as(path)
        fresh = CorrectionLog(tmp_path / fmt, ds.name, ds.class_names, {"train": ds.n_train, "test": ds.n})
        fresh.import_file(path)
        assert {s: (st.action, st.label) for s, st in states(fresh.entries()).items()} == \
               {s: (st.action, st.label) for s, st in states(log_of(ds).entries()).items()}
