/* Explore's 3-D view, drawn in the browser with its own plotly.js.
 *
 * The server puts {figure, config, bundle} in the dcc.Store "ex-scatter3d-fig"
 * (explorer/tabs/explore3d.py); a clientside callback hands it to draw(), which fetches
 * assets/plotly-3d.min.js (core + scatter3d, window.Plotly3D) the first time, then draws with
 * Plotly3D.react into the plain div #ex-scatter3d. The 2-D page's window.Plotly is not
 * touched, so a page nobody turns to 3-D never loads that code. The figure's meta and
 * customdata are the 2-D scatter's: assets/hover.js shows the hover image and opens a
 * clicked point as it does in 2-D. #ex-scatter3d's data-state says "loading", "drawn" or "failed".
 */
(function () {
  "use strict";
  const NARROW = 560;  // as hover.js: a legend beside the plot would leave a phone half the width
  let loading = null, latest = null;

  function load(url) {
    if (window.Plotly3D) return Promise.resolve(window.Plotly3D);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        const s = document.createElement("script");
        s.src = url;
        s.async = true;
        s.onload = function () {
          if (window.Plotly3D) resolve(window.Plotly3D);
          else reject(new Error(url + " defined no Plotly3D"));
        };
        s.onerror = function () { loading = null; reject(new Error("could not load " + url)); };
        document.head.appendChild(s);
      });
    }
    return loading;
  }

  function draw(spec) {
    latest = spec;
    const gd = document.getElementById("ex-scatter3d");
    if (!spec || !spec.figure || !gd) return;
    gd.dataset.state = "loading";
    load(spec.bundle).then(function (P) {
      if (latest !== spec) return null;  // a newer figure arrived while the bundle loaded
      const layout = Object.assign({}, spec.figure.layout);
      if (gd.clientWidth > 0 && gd.clientWidth < NARROW && !layout.meta.many_classes) {
        layout.legend = Object.assign({}, layout.legend, {orientation: "h", x: 0, y: 0, yanchor: "top",
                                                          title: {text: ""}});
      } else if (gd.clientWidth > 0 && gd.clientWidth < NARROW) {
        layout.showlegend = false;  // dozens of classes: the hover names each point's class
      }
      return P.react(gd, spec.figure.data, layout, spec.config).then(function () {
        if (latest !== spec) return;
        gd.dataset.state = "drawn";
        gd.dataset.drawn = layout.uirevision;
        if (window.explorerHover) window.explorerHover.scan();
      });
    }).catch(function (e) {
      gd.dataset.state = "failed";
      gd.textContent = "The 3-D view could not be drawn (" + e.message + "); the 2-D view still works.";
    });
  }

  // the box was hidden while 2-D was shown: Plotly sized nothing then
  function resize() {
    const gd = document.getElementById("ex-scatter3d");
    if (window.Plotly3D && gd && gd.dataset.state === "drawn" && gd.clientWidth > 0) {
      window.Plotly3D.Plots.resize(gd);
    }
  }

  // the 2-D / 3-D switch: the boxes' styles (2-D, 3-D); the 3-D one fits its box once shown
  function show(dims) {
    const three = dims === 3;
    if (three) setTimeout(resize, 0);
    return [three ? {display: "none"} : {}, three ? {} : {display: "none"}];
  }

  window.explorer3d = {draw: draw, load: load, resize: resize, show: show};
})();
