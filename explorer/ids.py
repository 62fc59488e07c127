"""Component ids of the page, shared by the page shell, the tabs and the tests.

Plain strings for components the page holds once; per-dataset components use
pattern ids ``{"type": <constant>, "dataset": name}`` (Dash's ``ALL`` matches every
dataset the page was built with).  This module imports nothing, so any explorer
module can use it without an import cycle.
"""
from __future__ import annotations

URL = "url"
TABS_ID = "tabs"
# the shared control bar
DATASET, MODEL, PROJ, COLOUR = "ctl-dataset", "ctl-model", "ctl-proj", "ctl-colour"
DATASET_BOX, MODEL_BOX, PROJ_BOX = "ctl-dataset-box", "ctl-model-box", "ctl-proj-box"
COLOUR_BOX, COLOUR_NOTE = "ctl-colour-box", "ctl-colour-note"
# Explore
SCATTER, CONFUSION, DETAIL, EX_HELP = "ex-scatter", "ex-confusion", "ex-detail", "ex-help"
CELL, SELECTION, CLICKED = "ex-cell", "ex-selection", "ex-clicked"
# Explore's find and filter bar; FILTER is the store of its values ({"conf", "correct", "issue"})
FIND, FIND_COUNT, FILTER, FILTER_COUNT = "ex-find", "ex-find-count", "ex-filter", "ex-filter-count"
FLT_CONF, FLT_CORRECT, FLT_ISSUE, FLT_ISSUE_BOX = "ex-flt-conf", "ex-flt-correct", "ex-flt-issue", "ex-flt-issue-box"
ZOOM, SEL_NOTE = "ex-zoom", "ex-sel-note"  # the scatter's axis ranges {"view", "x", "y"}; why the URL lacks a selection
FOCUS_TITLE, HIST, GALLERY = "ex-focus-title", "ex-hist", "ex-gallery"
# the gallery's pages (GALLERY_PAGE: the page shown, from 0) and the filter bar's histograms and layers
GALLERY_PAGE, GALLERY_PAGER, PAGE_TEXT = "ex-gallery-page", "ex-gallery-pager", "ex-page-text"
PAGE_PREV, PAGE_NEXT = "ex-page-prev", "ex-page-next"
FLT_HIST_CONF, FLT_HIST_ISSUE, LAYERS = "ex-flt-hist-conf", "ex-flt-hist-issue", "ex-layers"
DOWNLOAD_BTN, DOWNLOAD, CLEAR_BTN = "ex-download-btn", "ex-download", "ex-clear"
# the selection's exports (contact sheet PNG, zip of PNGs) and the view as one HTML file, all points or a sample
SHEET_BTN, ZIP_BTN, HTML_BTN, HTML_ALL, EXPORT = "ex-sheet-btn", "ex-zip-btn", "ex-html-btn", "ex-html-all", "ex-export"
# Label issues: the filter {"ds", "pair": [given, suggested]}, and how many suspects are shown {"key", "count"}
LI_PAIR, LI_SHOWN, LI_MATRIX, LI_GRID, LI_TITLE = "li-pair", "li-shown", "li-matrix", "li-grid", "li-title"
LI_SUMMARY, LI_MORE, LI_ALL, LI_DOWNLOAD_BTN, LI_DOWNLOAD = (
    "li-summary", "li-more", "li-all", "li-download-btn", "li-download")
LI_BODY, LI_MISSING = "li-body", "li-missing"
# Duplicates: only groups with differing labels, how many groups are shown {"key", "count"}
DU_MIXED, DU_SHOWN, DU_LIST, DU_TITLE, DU_NOTE, DU_MORE = (
    "du-mixed", "du-shown", "du-list", "du-title", "du-note", "du-more")
DU_DOWNLOAD_BTN, DU_DOWNLOAD, DU_BODY, DU_MISSING = "du-download-btn", "du-download", "du-body", "du-missing"
# Compare datasets
CD_SCATTER = "cd-scatter"  # pattern id {"type": CD_SCATTER, "dataset": name}
CD_REPORT, CD_BARS = "cd-report", "cd-bars"
CD_SHOWN = "cd-shown"  # which datasets are compared (a checklist of names)
CD_SLOT = "cd-slot"  # pattern id of the box that holds one dataset's scatter, hidden when it is not compared
# Compare models (and projections)
MODEL2, PROJ2 = "ctl-model2", "ctl-proj2"
CP_LEFT, CP_RIGHT, CP_LINKED, CP_COUNT = "cp-left", "cp-right", "cp-linked", "cp-count"
CP_TABLE = "cp-models"
# Training dynamics; per-dataset ids are {"type": ..., "dataset": name}
DY_SCATTER, DY_CHART, DY_PAIR, DY_STATS = "dy-scatter", "dy-chart", "dy-pair", "dy-stats"
DY_FRAME, DY_PLAY, DY_TIMER, DY_FRAME_LABEL, DY_SHOWN = "dy-frame", "dy-play", "dy-timer", "dy-frame-label", "dy-shown"
DY_MODEL = "dy-model"  # per dataset: which model's training is shown
# Image map
IM_GRAPH, IM_SHOW, IM_CLASS, IM_INFO = "im-graph", "im-show", "im-class", "im-info"
IM_PNG_BTN, IM_HTML_BTN, IM_DOWNLOAD = "im-png", "im-html", "im-download"
# the Layers tab (explorer/tabs/depth.py)
LY_SCATTER, LY_CHART, LY_METHOD, LY_MEASURE = "ly-scatter", "ly-chart", "ly-method", "ly-measure"
CD_DEPTH = "cd-depth"  # Compare datasets: separability by depth
LY_FRAME, LY_PLAY, LY_TIMER, LY_INFO, LY_SHOWN = "ly-frame", "ly-play", "ly-timer", "ly-info", "ly-shown"
# what each tab's figures were last drawn for, so that a tab switch redraws nothing
EX_RENDERED, CD_RENDERED, CP_RENDERED, DY_RENDERED = "ex-rendered", "cd-rendered", "cp-rendered", "dy-rendered"
# page-wide: the hover tooltip, one-line messages, pipeline progress and "new dataset ready"
HOVER_TIP = "hover-tip"
ALERT, ALERT_TEXT, ALERT_CLOSE = "alert", "alert-text", "alert-close"
BANNER, BANNER_TEXT, RELOAD_BTN, STATUS_POLL, PAGE_DATASETS = (
    "banner", "banner-text", "banner-reload", "status-poll", "page-datasets")
# while a pipeline publishes: the waiting page (no dataset yet), and the page's own choice of view (AUTO:
# [dataset, model, projection] while nobody has changed them) and its wish for a view not made yet (WISH)
WAIT_TEXT, WAIT_POLL, WAIT_READY = "wait-text", "wait-poll", "wait-ready"
AUTO, WISH, LIVE_NOTE = "live-auto", "live-wish", "live-note"  # LIVE_NOTE: what the banner says a while


def panel_id(tab: str) -> str:
    """Id of the ``div`` that holds one tab's panel (all stay mounted; one is shown)."""
    return f"panel-{tab}"


def per_dataset(kind: str, name: str) -> dict:
    """Pattern id of one dataset's component of ``kind`` (e.g. :data:`DY_SCATTER`)."""
    return {"type": kind, "dataset": name}
# the 2-D / 3-D switch (shared control bar) and Explore's 3-D view: a plain div that assets/view3d.js
# draws into with the 3-D view's own plotly.js, from the figure the server puts in SCATTER3D_FIG
DIMS, DIMS_BOX = "ctl-dims", "ctl-dims-box"
SCATTER3D, SCATTER3D_FIG, SCATTER3D_NOTE, PLOT2D_BOX, PLOT3D_BOX = (
    "ex-scatter3d", "ex-scatter3d-fig", "ex-scatter3d-note", "ex-plot2d-box", "ex-plot3d-box")
SCATTER3D_KEY = "ex-scatter3d-key"  # what the drawn 3-D figure was made of (a hash), so an unchanged one is not resent
# label corrections (explorer/corrections.py): the bar above every tab, and Explore's "relabel the selection"
LABELS, CORR_BAR, CORR_TEXT, CORR_MSG = "corr-labels", "corr-bar", "corr-text", "corr-msg"
CORR_UNDO_BTN, CORR_CSV, CORR_JSON = "corr-undo-btn", "corr-csv", "corr-json"
CORR_VERSION, CORR_ACTION, CORR_UNDO, CORR_DONE = "corr-version", "corr-action", "corr-undo", "corr-done"
SEL_FIX_CLASS, SEL_FIX_BTN = "ex-fix-class", "ex-fix-btn"
