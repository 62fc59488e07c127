"""Views as a registry: a view declared in a few lines here (name, label, one URL field, a layout)
becomes a tab with its panel, and its field goes through the URL both ways, without a line of
explorer/page.py or explorer/state.py edited; what the registry refuses."""
from __future__ import annotations

import json

import pytest
from dash import dcc, html

from explorer_helpers import GOOD, dash_post, response_of
from core.store import ArtifactStore
from explorer.registry import Field, View, pick, register_view, tab_names, unregister_view, url_fields
from explorer.state import ViewState, parse_query, to_query

GREETINGS = ("hello", "bonjour", "hallo")
GREETING = "hi-greeting"  # the tiny view's one control
HELLO = View("hello", "Hello", fields=(
    Field("greeting", "hello", lambda values, r: pick(values, GREETINGS, "hello"), control=(GREETING, "value")),),
    layout=lambda store: html.Div(dcc.RadioItems(id=GREETING, options=list(GREETINGS), value="hello")))
#: the query string of ``ViewState(ds="mnist")`` since before views were modules
PLAIN = "?tab=explore&ds=mnist&model=&proj=umap&colour=true&model2=&proj2=tsne&frame=0"


@pytest.fixture
def hello():
    """The tiny view, registered for one test."""
    register_view(HELLO)
    try:
        yield HELLO
    finally:
        unregister_view(HELLO.name)


def tab_labels(layout: dict) -> list[str]:
    """The labels of the page's tabs, from ``/_dash-layout``."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "Tab":
                found.append(node["props"]["label"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(layout)
    return found


def test_a_registered_view_is_a_tab_whose_field_round_trips(hello, explorer_cache):
    from explorer.app import create_app

    # the parser and the serializer take the new field; the others' strings are as before
    assert tab_names()[-1] == "hello" and "greeting" in url_fields()
    s = parse_query("?tab=hello&ds=mnist&greeting=bonjour", ["mnist"])
    assert (s.tab, s.greeting) == ("hello", "bonjour")
    assert to_query(s) == PLAIN.replace("explore", "hello") + "&greeting=bonjour"
    assert parse_query(to_query(s), ["mnist"]) == s
    assert parse_query("?greeting=hi", ["mnist"]).greeting == "hello"  # not one it takes: its default
    assert to_query(ViewState(ds="mnist")) == PLAIN  # at its default it writes nothing

    # the page: a tab after the built-in ones, its panel, its control, the tab switch's list
    app = create_app(ArtifactStore(explorer_cache))
    client = app.server.test_client()
    layout = client.get("/_dash-layout").get_json()
    assert tab_labels(layout) == ["Explore", "Label issues", "Duplicates", "Compare datasets", "Image map",
                                  "Compare models", "Training dynamics", "Layers", "Hello"]
    text = json.dumps(layout)
    assert '"panel-hello"' in text and f'"{GREETING}"' in text
    assert any("panel-hello.style" in key for key in app.callback_map)

    # the URL sets the tab and the control; the control sets the URL
    r = dash_post(client, app, "sync_url", {**GOOD, "url.search": "?tab=hello&greeting=hallo"},
                  changed=["url.search"])
    assert response_of(r, "tabs.value") == "hello" and response_of(r, f"{GREETING}.value") == "hallo"
    r = dash_post(client, app, "sync_url", {**GOOD, "url.search": "?tab=hello", "tabs.value": "hello",
                                            f"{GREETING}.value": "bonjour"}, changed=[f"{GREETING}.value"])
    search = response_of(r, "url.search")
    assert search.startswith("?tab=hello&ds=mnist&") and search.endswith("&greeting=bonjour")
    r = dash_post(client, app, "sync_url", {**GOOD, "url.search": "?tab=hello", f"{GREETING}.value": {"x": 1}},
                  changed=[f"{GREETING}.value"])
    assert "greeting=" not in response_of(r, "url.search")  # a value the field does not take: none
    # a page holding the URL's values is left alone (first paint waits for nothing)
    r = dash_post(client, app, "sync_url", {**GOOD, "url.search": "?greeting=hello", f"{GREETING}.value": "hello"},
                  changed=["url.search"])
    assert response_of(r, f"{GREETING}.value") is None


def test_the_view_leaves_with_its_field():
    register_view(HELLO)
    register_view(HELLO)  # the same view again: nothing
    unregister_view(HELLO.name)
    assert "hello" not in tab_names() and "greeting" not in url_fields()
    with pytest.raises(TypeError, match="no field 'greeting'"):
        ViewState(greeting="hallo")


@pytest.mark.parametrize("view, message", [
    (View("explore", "Again"), "a view named 'explore' is registered already"),
    (View("Hello World", "Hi"), "lower-case letters"),
    (View("frames", "Frames", fields=(Field("frame", 0, lambda v, r: 0),)),
     "URL field 'frame' clashes with view 'dynamics'"),
    (View("pairs", "Pairs", fields=(Field("pair2", (), lambda v, r: (), key="pair"),)), "clashes with view 'dynamics'"),
    (View("opts", "Opts", fields=(Field("options", "", lambda v, r: ""),)), "clashes with view 'controls'"),
    (View("bad", "Bad", fields=(Field("replace", "", lambda v, r: ""),)), "not a ViewState method"),
    (View("extra", "Extra", inputs={"paused": ("x", "value")}), "input name 'paused' is view 'dynamics'"),
])
def test_a_clashing_view_is_refused_with_the_reason(view, message):
    import explorer.state  # noqa: F401 - the built-in views registered

    with pytest.raises(ValueError, match=message):
        register_view(view)
    assert view.name not in tab_names() or view.name == "explore"
