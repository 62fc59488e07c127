"""Small component builders the page shell and the tabs share: radio groups, labelled controls, scatters."""
from __future__ import annotations

from dash import dcc, html

# Nothing leaves the machine: no "Share chart" (an upload to Plotly Cloud), no Chart Studio link;
# the camera button saves a PNG locally (Plotly.downloadImage draws it in the browser).
GRAPH_CONFIG = {"scrollZoom": True, "displaylogo": False, "doubleClick": "reset",
                "showSendToCloud": False, "showEditInChartStudio": False, "showLink": False,
                "plotlyServerURL": "", "modeBarButtonsToRemove": ["autoScale2d", "sendDataToCloud"],
                "toImageButtonOptions": {"format": "png", "filename": "embedding-explorer", "scale": 2}}


def radio(id_: str, options: dict[str, str], value: str) -> dcc.RadioItems:
    """Inline radio buttons: ``options`` maps each value to its label."""
    return dcc.RadioItems(id=id_, options=[{"label": v, "value": k} for k, v in options.items()],
                          value=value, inline=True, className="radio")


def control(label: str, component, id_: str | None = None) -> html.Div:
    """A control with its label, as the control bars lay them out."""
    return html.Div([html.Span(label, className="ctl-label"), component], className="ctl", id=id_ or "")


def scatter_graph(id_, height: str | None, config: dict | None = None) -> dcc.Graph:
    """A scatter's ``dcc.Graph``; class ``explorer-scatter`` is what ``assets/hover.js`` binds to."""
    return dcc.Graph(id=id_, className="explorer-scatter", config=config or GRAPH_CONFIG,
                     style={"height": height} if height else {}, clear_on_unhover=True)
