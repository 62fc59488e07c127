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
        bindPicking(gd);
        gd.dataset.state = "drawn";
        gd.dataset.drawn = layout.uirevision;
        if (window.explorerHover) window.explorerHover.scan();
      });
    }).catch(function (e) {
      gd.dataset.state = "failed";
      gd.textContent = "The 3-D view could not be drawn (" + e.message + "); the 2-D view still works.";
    });
  }

  // -- hover and click ---------------------------------------------------------------------
  // Plotly's own 3-D picking renders the scene again into a pick buffer and reads it back, once per
  // frame: without a GPU (SwiftShader) that is 50-200 ms a hover. Here the points are projected
  // with the scene's camera, as plotly.js's gl3d/project.js places its labels, and the nearest
  // within PICK_PX is hovered by emitting Plotly's events, which assets/hover.js listens to.
  const PICK_PX = 12;
  function mvp(sc) {
    const c = sc.glplot.cameraParams, out = new Float64Array(16);
    const mul = function (a, b) {  // column-major a * b, as gl-mat4
      const o = new Float64Array(16);
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += a[4 * k + j] * b[4 * i + k];
        o[4 * i + j] = v;
      }
      return o;
    };
    out.set(mul(c.projection, mul(c.view, c.model)));
    return out;
  }
  function nearest(gd, e) {
    const sc = gd._fullLayout && gd._fullLayout.scene && gd._fullLayout.scene._scene;
    if (!sc || !sc.glplot || !sc.glplot.cameraParams) return null;
    const m = mvp(sc), s = sc.dataScale, r = sc.container.getBoundingClientRect();
    const px = e.clientX - r.left, py = e.clientY - r.top;
    let best = null, bestD = PICK_PX * PICK_PX;
    (gd._fullData || []).forEach(function (t, c) {
      if (t.visible !== true || !t.customdata) return;  // the points and the focus; not rings or lines
      const x = t.x, y = t.y, z = t.z, n = t._length;
      for (let i = 0; i < n; i++) {
        const X = x[i] * s[0], Y = y[i] * s[1], Z = z[i] * s[2];
        const w = m[3] * X + m[7] * Y + m[11] * Z + m[15];
        if (!(w > 0)) continue;
        const dx = (0.5 + 0.5 * (m[0] * X + m[4] * Y + m[8] * Z + m[12]) / w) * r.width - px;
        const dy = (0.5 - 0.5 * (m[1] * X + m[5] * Y + m[9] * Z + m[13]) / w) * r.height - py;
        const d = dx * dx + dy * dy;
        if (d < bestD) { bestD = d; best = {curveNumber: c, pointNumber: i}; }
      }
    });
    return best;
  }
  function bindPicking(gd) {
    // and gl-plot3d's own picking off (a read-back per mouse move); turning and zooming stay on
    const sc = gd._fullLayout.scene && gd._fullLayout.scene._scene;
    if (sc && sc.glplot && sc.glplot.mouseListener) sc.glplot.mouseListener.enabled = false;
    if (gd.__pick3d) return;
    gd.__pick3d = true;
    let shown = null, down = null;
    gd.addEventListener("mousemove", function (e) {
      if (e.buttons) { if (shown) { gd.emit("plotly_unhover", {}); shown = null; } return; }  // turning
      const pt = nearest(gd, e);
      if (pt && shown && pt.curveNumber === shown.curveNumber && pt.pointNumber === shown.pointNumber) return;
      if (pt) gd.emit("plotly_hover", {points: [pt], event: e});
      else if (shown) gd.emit("plotly_unhover", {});
      shown = pt;
    });
    gd.addEventListener("mouseleave", function () { if (shown) gd.emit("plotly_unhover", {}); shown = null; });
    gd.addEventListener("mousedown", function (e) { down = {x: e.clientX, y: e.clientY}; });
    gd.addEventListener("mouseup", function (e) {
      // a press and release in place on a point is a click; a drag turned the view
      if (down && shown && Math.abs(e.clientX - down.x) <= 4 && Math.abs(e.clientY - down.y) <= 4) {
        gd.emit("plotly_click", {points: [shown], event: e});
      }
      down = null;
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
