/* Training dynamics: move the snapshot images' points between frames in the browser.
 *
 * The server draws each dataset's scatter once (for a frame and a colouring); its
 * layout.meta says which frame each slider step shows ("steps"). Every frame's
 * positions, predictions and confidences come from /api/dynamics/<dataset>.json?model=<model>,
 * fetched once per dataset and model. goTo(step) interpolates all dynamics scatters from what they show now
 * to that step's frame with requestAnimationFrame, so both datasets move together,
 * then recolours them for the new frame (predicted class, correct/wrong and confidence
 * change as the network learns).
 */
(function () {
  "use strict";
  const DURATION = 800;  // ms per step; the play timer ticks every 1100 ms
  const cache = {};      // dataset/version -> Promise of decoded arrays
  let token = 0;         // the running animation; a new goTo cancels the old one

  function decode(spec) {
    if (!spec || !spec.bdata) return spec;
    if (spec.__decoded) return spec.__decoded;
    const bin = atob(spec.bdata), buf = new ArrayBuffer(bin.length), u8 = new Uint8Array(buf);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    const T = {i4: Int32Array, u1: Uint8Array, u2: Uint16Array, f4: Float32Array, f8: Float64Array}[spec.dtype] || Float32Array;
    spec.__decoded = new T(buf);
    return spec.__decoded;
  }

  function load(meta) {
    const key = meta.dataset + "/" + meta.dyn_version;
    if (!cache[key]) {
      cache[key] = fetch("/api/dynamics/" + meta.dataset + ".json?v=" + meta.dyn_version +
                         (meta.model ? "&model=" + encodeURIComponent(meta.model) : ""))
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (j) {
          return {m: j.m, frames: j.frames, epochs: j.epochs, xy: decode(j.xy), pred: decode(j.pred),
                  conf: decode(j.conf), ids: j.ids ? decode(j.ids) : null, labels: decode(j.labels), palette: j.palette,
                  correct: j.correct_colour, wrong: j.wrong_colour, names: j.class_names};
        })
        .then(function (v) { cache[key].__value = v; return v; })  // for describe(), on hover
        .catch(function (e) { delete cache[key]; throw e; });
    }
    return cache[key];
  }

  function graphs() {
    return Array.from(document.querySelectorAll(".dynamics-scatter .js-plotly-plot")).filter(function (gd) {
      return gd.layout && gd.layout.meta && gd.layout.meta.explorer === "dynamics" && gd.data && gd.data.length;
    });
  }

  function shownXY(gd) {
    const t = gd.data[0];
    return [t.x && t.x.bdata ? decode(t.x) : t.x, t.y && t.y.bdata ? decode(t.y) : t.y];
  }

  function label(epoch) {
    if (epoch <= 0) return "untrained";
    const whole = Math.floor(epoch + 1e-9), frac = epoch - whole;
    if (frac < 1e-6) return "epoch " + whole;
    return Math.round(frac * 100) + "% of epoch " + (whole + 1);
  }

  // marker colours of frame f for the figure's colouring, and the legend names that change with it
  function colours(meta, d, f) {
    const m = d.m, off = f * d.m;
    if (meta.colour === "true") return null;  // true classes never change
    if (meta.colour === "confidence") {
      const c = new Float32Array(m);
      // as the server colours it (figures.nines): -log10(1 - confidence), 0.9 -> 1 ... 0.9999 -> 4
      for (let i = 0; i < m; i++) c[i] = Math.min(4, Math.max(0, -Math.log10(1 - d.conf[off + i] / 10000)));
      return {color: c};
    }
    const out = new Array(m);
    let wrong = 0;
    for (let i = 0; i < m; i++) {
      const p = d.pred[off + i];
      if (meta.colour === "pred") out[i] = d.palette[p % d.palette.length];
      else {
        const w = p !== d.labels[i];
        wrong += w ? 1 : 0;
        out[i] = w ? d.wrong : d.correct;
      }
    }
    const res = {color: out};
    if (meta.colour === "correct")
      res.legend = ["Correct (" + (m - wrong).toLocaleString("en") + ")", "Wrong (" + wrong.toLocaleString("en") + ")"];
    return res;
  }

  function finish(gd, meta, d, f) {
    const xs = d.xy.subarray(2 * f * d.m, 2 * (f + 1) * d.m);
    const x = new Float32Array(d.m), y = new Float32Array(d.m);
    for (let i = 0; i < d.m; i++) { x[i] = xs[2 * i]; y[i] = xs[2 * i + 1]; }
    const update = {x: [x], y: [y]}, c = colours(meta, d, f);
    if (c) update["marker.color"] = [c.color];
    window.Plotly.restyle(gd, update, [0]);
    if (c && c.legend) window.Plotly.restyle(gd, {name: c.legend}, [1, 2]);
    window.Plotly.relayout(gd, {"title.text": meta.title + " · " + label(d.epochs[f])});
    gd.__dynFrame = f;
    gd.__dynRender = meta.render;  // a new figure from the server brings its own frame
    gd.setAttribute("data-frame", String(f));
  }

  function goTo(step) {
    const my = ++token, gds = graphs();
    if (!gds.length || !window.Plotly) return;
    Promise.all(gds.map(function (gd) { return load(gd.layout.meta); })).then(function (datas) {
      if (my !== token) return;
      const jobs = [];
      gds.forEach(function (gd, j) {
        const meta = gd.layout.meta, d = datas[j];
        const s = Math.max(0, Math.min(step, meta.steps.length - 1));
        const f = meta.steps[s];
        if (f === undefined || f >= d.frames) return;
        const from = shownXY(gd);
        if (!from[0] || from[0].length !== d.m) { finish(gd, meta, d, f); return; }
        jobs.push({gd: gd, meta: meta, d: d, f: f, x0: Float32Array.from(from[0]), y0: Float32Array.from(from[1])});
        gd.setAttribute("data-moving", "1");
      });
      if (!jobs.length) return;
      const t0 = performance.now();
      const tick = function (now) {
        if (my !== token) return;  // a newer step took over from wherever the points are now
        const t = Math.min(1, (now - t0) / DURATION);
        const e = t < 0.5 ? 2 * t * t : 1 - Math.pow(-2 * t + 2, 2) / 2;  // ease in and out
        jobs.forEach(function (job) {
          const d = job.d, off = 2 * job.f * d.m;
          if (t >= 1) { finish(job.gd, job.meta, d, job.f); job.gd.removeAttribute("data-moving"); return; }
          const x = new Float32Array(d.m), y = new Float32Array(d.m);
          for (let i = 0; i < d.m; i++) {
            x[i] = job.x0[i] + (d.xy[off + 2 * i] - job.x0[i]) * e;
            y[i] = job.y0[i] + (d.xy[off + 2 * i + 1] - job.y0[i]) * e;
          }
          window.Plotly.restyle(job.gd, {x: [x], y: [y]}, [0]);
        });
        if (t < 1) window.requestAnimationFrame(tick);
      };
      window.requestAnimationFrame(tick);
    }).catch(function () { /* the figure stays on its frame; a later step retries the fetch */ });
  }

  // what a hover shows at the frame on screen: true and predicted class, confidence
  function describe(gd, k) {
    const meta = gd.layout && gd.layout.meta;
    if (!meta) return null;
    const d = cache[meta.dataset + "/" + meta.dyn_version];
    const f = gd.__dynRender === meta.render && gd.__dynFrame !== undefined ? gd.__dynFrame : meta.frame;
    if (!d || !d.__value) { load(meta).catch(function () {}); return null; }
    const v = d.__value, off = f * v.m;
    const id = v.ids && v.ids[k] >= 0 ? v.ids[k] : null;  // conf: hundredths of a per cent
    return {t: v.labels[k], p: v.pred[off + k], conf: v.conf[off + k] / 100, names: v.names, frame: f, id: id};
  }

  window.explorerDynamics = {goTo: goTo, describe: describe, load: load};
})();
