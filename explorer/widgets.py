"""Small component builders the page shell and the tabs share: radio groups, labelled controls, scatters."""
from __future__ import annotations

from dash import Input, Output, State, dcc, html

# Nothing leaves the machine: no "Share chart" (an upload to Plotly Cloud), no Chart Studio link;
# the camera button saves a PNG locally (Plotly.downloadImage draws it in the browser).
GRAPH_CONFIG = {"scrollZoom": True, "displaylogo": False, "doubleClick": "reset",
                "showSendToCloud": False, "showEditInChartStudio": False, "showLink": False,
                "plotlyServerURL": "", "modeBarButtonsToRemove": ["autoScale2d", "sendDataToCloud"],
                "toImageButtonOptions": {"format": "png", "filename": "embedding-explorer", "scale": 2}}


def radio_options(options: dict[str, str], hints: dict[str, str] | None = None) -> list[dict]:
    """A radio's options: ``options`` maps each value to its label; ``hints`` a value to its hover text."""
    hints = hints or {}
    return [{"label": html.Span(v, title=hints[k]) if hints.get(k) else v, "value": k} for k, v in options.items()]


def option_labels(options) -> list[str]:
    """The label texts of a radio's options, as built here or as the page sends them back."""
    def text(label):
        if isinstance(label, dict):  # a component as the page sends it
            label = (label.get("props") or {}).get("children")
        return label.children if isinstance(label, html.Span) else label
    return [str(text(o.get("label"))) for o in options or [] if isinstance(o, dict)]


def radio(id_: str, options: dict[str, str], value: str, hints: dict[str, str] | None = None) -> dcc.RadioItems:
    """Inline radio buttons: ``options`` maps each value to its label; ``hints`` a value to its hover text."""
    return dcc.RadioItems(id=id_, options=radio_options(options, hints), value=value, inline=True, className="radio")


def method_radio(id_: str, facts: dict[str, dict], value: str) -> dcc.RadioItems:
    """The projection methods of ``facts`` (:func:`explorer.store.method_facts`), each one's title as its
    label and what its layout shows on hover."""
    return radio(id_, {n: f["title"] for n, f in facts.items()}, value, {n: f.get("about", "") for n, f in facts.items()})


def control(label: str, component, id_: str | None = None) -> html.Div:
    """A control with its label, as the control bars lay them out."""
    return html.Div([html.Span(label, className="ctl-label"), component], className="ctl", id=id_ or "")


def scatter_graph(id_, height: str | None, config: dict | None = None) -> dcc.Graph:
    """A scatter's ``dcc.Graph``; class ``explorer-scatter`` is what ``assets/hover.js`` binds to."""
    return dcc.Graph(id=id_, className="explorer-scatter", config=config or GRAPH_CONFIG,
                     style={"height": height} if height else {}, clear_on_unhover=True)


def play_button(app, play: str, timer: str, frame: str) -> None:
    """Play / Pause for a step slider ``frame``, in the browser: the button starts ``timer`` (from the first
    step when at the last) or stops it; each tick moves the slider a step, and the last step stops it."""
    app.clientside_callback(
        """function(n, disabled, step, last) {
            const nu = window.dash_clientside.no_update;
            if (!n) return [nu, nu, nu];
            if (disabled) {  // start: from the beginning when at the end
                return [false, '❚❚ Pause', (step >= last) ? 0 : nu];
            }
            return [true, '▶ Play', nu];
        }""",
        Output(timer, "disabled"), Output(play, "children"), Output(frame, "value", allow_duplicate=True),
        Input(play, "n_clicks"), State(timer, "disabled"), State(frame, "value"), State(frame, "max"),
        prevent_initial_call=True)
    app.clientside_callback(
        """function(n, step, last) {
            const next = (typeof step === 'number' ? step : 0) + 1;
            if (next >= last) return [Math.min(next, last), true, '▶ Play'];
            return [next, window.dash_clientside.no_update, window.dash_clientside.no_update];
        }""",
        Output(frame, "value", allow_duplicate=True), Output(timer, "disabled", allow_duplicate=True),
        Output(play, "children", allow_duplicate=True),
        Input(timer, "n_intervals"), State(frame, "value"), State(frame, "max"), prevent_initial_call=True)


def shown_count(data, key: str, page: int) -> int:
    """How many items a "Show more" list shows: the stored ``{"key", "count"}`` when it is ``key``'s (another
    dataset or filter starts again), else one ``page``."""
    if isinstance(data, dict) and data.get("key") == key:
        count = data.get("count")
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            return min(count, 10_000_000)
    return page
