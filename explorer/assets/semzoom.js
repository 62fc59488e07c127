/* Semantic zoom (issue 24): with Explore's "Images" layer ticked, the 2-D scatter draws the images
 * themselves, on a canvas over its points, from the sprite pages the hover already uses (no request per
 * image). Zoomed in to at most MAX_DRAWN points in view, every one is drawn as its image, centred on its
 * point, as large as the points in view leave room for (a whole multiple of its own size from there up,
 * so its pixels stay crisp), framed in its class's colour or red where the model is wrong. Zoomed out,
 * each class shows a few representative images at its densest places in view. It follows a pan or a
 * zoom frame by frame (a pan moves the last drawing, one blit a frame, and draws afresh when the drag ends),
 * and the canvas takes no pointer events: hover and selection work as without it.
 *
 * The canvas says what it drew: data-mode ("images", "representatives" or "off") and, once the view
 * settles, data-drawn (JSON of {row, x, y, w, h}: each image's rectangle in CSS pixels of the plot area).
 */
(function () {
  "use strict";
  const MAX_DRAWN = 1500;     // points in view drawn as images at most
  const REPS = 3;             // representative images per class, zoomed out
  const BINS = 12;            // the density grid over the view, zoomed out
  const REP_SCALE = 1.5;      // a representative's size: 1.5 times its own
  const MIN_PX = 8, MAX_SCALE = 4;  // an image's side: at least 8 px, at most 4 times its own
  const FRAME = 1, WRONG_FRAME = 2;  // its frame, outside the image: thin in its class's colour, thicker red where wrong
  const WRONG = "#d62728";
  const state = new WeakMap();  // gd -> {canvas, data (the gd.data its points were read from), traces}

  function hover() { return window.explorerHover; }
  function ticked() {
    const box = document.querySelector("#ex-layers input[value=images]");
    return !!(box && box.checked);
  }

  // each visible base trace's x, y and rows, read once per figure
  function traces(gd) {
    const out = [], h = hover();
    (gd._fullData || []).forEach(function (t, c) {
      if (t.visible !== true || !t.x || !t.x.length || t.name === "highlight") return;
      if (h.rowOf(gd, {curveNumber: c, pointNumber: 0}) === null) return;  // rings, lines: no rows
      const n = t.x.length, rows = new Int32Array(n);
      for (let i = 0; i < n; i++) rows[i] = h.rowOf(gd, {curveNumber: c, pointNumber: i});
      out.push({x: t.x, y: t.y, rows: rows});
    });
    return out;
  }

  function canvasOf(gd) {
    let s = state.get(gd);
    if (!s) {
      const c = document.createElement("canvas");
      c.className = "semzoom";
      c.setAttribute("aria-hidden", "true");
      s = {canvas: c, data: null, traces: []};
      state.set(gd, s);
    }
    const box = gd.querySelector(".svg-container");
    if (box && s.canvas.parentNode !== box) {
      // over the WebGL points, under the SVG layer that holds the hover and the selection box
      const top = box.querySelectorAll(".main-svg");
      box.insertBefore(s.canvas, top.length > 1 ? top[top.length - 1] : null);
    }
    return s;
  }

  // the view's ranges: a drag in progress reports its new ones before the axes have them
  function ranges(gd, ev) {
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const pick = function (k, i, ax) {
      const v = ev && (ev[k + ".range[" + i + "]"] !== undefined ? ev[k + ".range[" + i + "]"]
                       : ev[k + ".range"] && ev[k + ".range"][i]);
      return typeof v === "number" ? v : ax.range[i];
    };
    return [pick("xaxis", 0, xa), pick("xaxis", 1, xa), pick("yaxis", 0, ya), pick("yaxis", 1, ya)];
  }

  function draw(gd, ev, settled) {
    const h = hover(), meta = gd.layout && gd.layout.meta;
    if (!h || !meta || meta.explorer !== "scatter" || !gd._fullLayout || !gd._fullLayout._size) return;
    const s = canvasOf(gd), c = s.canvas, size = gd._fullLayout._size;
    const dpr = window.devicePixelRatio || 1;
    c.style.left = size.l + "px"; c.style.top = size.t + "px";
    c.style.width = size.w + "px"; c.style.height = size.h + "px";
    if (c.width !== Math.round(size.w * dpr) || c.height !== Math.round(size.h * dpr)) {
      c.width = Math.round(size.w * dpr); c.height = Math.round(size.h * dpr);
    }
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, size.w, size.h);
    if (!ticked()) { c.dataset.mode = "off"; c.dataset.drawn = "[]"; s.last = null; return; }
    if (s.data !== gd.data || s.full !== gd._fullData) { s.traces = traces(gd); s.data = gd.data; s.full = gd._fullData; }
    const r = ranges(gd, ev), sx = size.w / (r[1] - r[0]), sy = size.h / (r[3] - r[2]);
    const last = s.last;
    if (!settled && last && last.w === c.width && last.h === c.height &&
        Math.abs(last.r[1] - last.r[0] - (r[1] - r[0])) <= 1e-9 * Math.abs(r[1] - r[0]) &&
        Math.abs(last.r[3] - last.r[2] - (r[3] - r[2])) <= 1e-9 * Math.abs(r[3] - r[2])) {
      // a pan (the scale unchanged): the last full drawing moved with the points, one blit a frame; the
      // images entering at the edges are drawn when the drag ends
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(last.canvas, Math.round((last.r[0] - r[0]) * sx * dpr), Math.round((r[2] - last.r[2]) * sy * dpr));
      return;
    }
    const seen = [];  // [px, py, row] of the points in view
    s.traces.forEach(function (t) {
      for (let i = 0; i < t.rows.length; i++) {
        const px = (t.x[i] - r[0]) * sx, py = size.h - (t.y[i] - r[2]) * sy;
        if (px >= 0 && px <= size.w && py >= 0 && py <= size.h) seen.push([px, py, t.rows[i]]);
      }
    });
    const g = h.grid(meta), labels = h.labels(meta);
    if (!labels) h.preload(meta);  // the frames need the predictions: fetched once, then drawn again
    let chosen, side;
    if (seen.length <= MAX_DRAWN) {
      c.dataset.mode = "images";
      side = Math.sqrt(size.w * size.h / Math.max(seen.length, 1));
      side = side >= g.w ? Math.min(MAX_SCALE, Math.floor(side / g.w)) * g.w : Math.max(MIN_PX, side);
      chosen = seen;
    } else {
      c.dataset.mode = "representatives";
      side = Math.round(g.w * REP_SCALE);
      chosen = apart(representatives(seen, labels, size), side, side * g.h / g.w);
    }
    const dw = side, dh = side * g.h / g.w, drawn = [], waiting = {};
    ctx.imageSmoothingEnabled = false;
    const wrongOf = function (p) { return !!labels && labels.pred[p[2]] !== labels.labels[p[2]]; };
    // the model's mistakes last: their red frames on top
    chosen.slice().sort(function (a, b) { return wrongOf(a) - wrongOf(b); }).forEach(function (p) {
      const row = p[2], page = Math.floor(row / g.per_page), k = row % g.per_page;
      const sh = h.sheet(h.spriteUrl(meta, page), true);
      if (!sh.ready) { waiting[page] = sh; return; }
      const x = Math.round(p[0] - dw / 2), y = Math.round(p[1] - dh / 2), wrong = wrongOf(p);
      ctx.drawImage(sh.img, (k % g.per_row) * g.w, Math.floor(k / g.per_row) * g.h, g.w, g.h, x, y, dw, dh);
      const t = labels ? labels.labels[row] : null, f = wrong ? WRONG_FRAME : FRAME;
      ctx.lineWidth = f;
      ctx.strokeStyle = wrong ? WRONG : (meta.class_colours && t !== null ? meta.class_colours[t] : "#888");
      ctx.strokeRect(x - f / 2, y - f / 2, dw + f, dh + f);
      drawn.push({row: row, x: x, y: y, w: dw, h: dh});
    });
    // kept for the frames of a pan (above)
    const kept = s.last && s.last.canvas.width === c.width && s.last.canvas.height === c.height
      ? s.last.canvas : Object.assign(document.createElement("canvas"), {width: c.width, height: c.height});
    const kc = kept.getContext("2d");
    kc.clearRect(0, 0, kept.width, kept.height);
    kc.drawImage(c, 0, 0);
    s.last = {canvas: kept, r: r, w: c.width, h: c.height};
    const pending = Object.keys(waiting);
    c.dataset.pending = pending.length;
    if (settled || pending.length) c.dataset.drawn = JSON.stringify(drawn);
    pending.forEach(function (p) { waiting[p].wait.then(function () { schedule(gd); }, function () {}); });
    if (!labels) setTimeout(function () { if (h.labels(meta)) schedule(gd); }, 600);
  }

  // zoomed out: per class, the points nearest the centre of its REPS densest cells of a BINS x BINS grid
  function representatives(seen, labels, size) {
    const byClass = {};
    seen.forEach(function (p) {
      const t = labels ? labels.labels[p[2]] : 0;
      if (labels && labels.pred[p[2]] !== t) return;  // a typical image: one the model gets right
      const b = Math.min(BINS - 1, Math.floor(p[0] / size.w * BINS)) * BINS +
                Math.min(BINS - 1, Math.floor(p[1] / size.h * BINS));
      const cls = byClass[t] = byClass[t] || {};
      (cls[b] = cls[b] || []).push(p);
    });
    const out = [];
    Object.keys(byClass).forEach(function (t) {
      const cells = Object.values(byClass[t]).sort(function (a, b) { return b.length - a.length; });
      cells.slice(0, REPS).forEach(function (cell, i) {
        if (i && cell.length < cells[0].length / 4) return;  // a stray few are not a dense place
        let mx = 0, my = 0;
        cell.forEach(function (p) { mx += p[0]; my += p[1]; });
        mx /= cell.length; my /= cell.length;
        let best = cell[0], d0 = Infinity;
        cell.forEach(function (p) {
          const d = (p[0] - mx) * (p[0] - mx) + (p[1] - my) * (p[1] - my);
          if (d < d0) { d0 = d; best = p; }
        });
        out.push(best);
      });
    });
    return out;
  }

  // representatives that would hide more than half of one placed before them are left out
  function apart(points, w, hgt) {
    const kept = [];
    points.forEach(function (p) {
      const clash = kept.some(function (q) {
        return Math.max(0, w - Math.abs(p[0] - q[0])) * Math.max(0, hgt - Math.abs(p[1] - q[1])) > w * hgt / 2;
      });
      if (!clash) kept.push(p);
    });
    return kept;
  }

  const queued = new Set();
  function schedule(gd, ev, settled) {
    if (queued.has(gd)) { gd.__semzoomEv = ev; return; }
    queued.add(gd);
    gd.__semzoomEv = ev;
    requestAnimationFrame(function () {
      queued.delete(gd);
      draw(gd, gd.__semzoomEv, settled !== false);
    });
  }

  function bind(gd) {
    if (gd.__semzoom || !gd.on) return;
    gd.__semzoom = true;
    gd.on("plotly_afterplot", function () { schedule(gd); });
    gd.on("plotly_relayout", function () { schedule(gd); });
    gd.on("plotly_relayouting", function (ev) { schedule(gd, ev, false); });
    gd.on("plotly_restyle", function () { schedule(gd); });  // a class hidden in the legend
    schedule(gd);
  }
  function scan() {
    const gd = document.querySelector("#ex-scatter .js-plotly-plot");
    if (gd) bind(gd);
  }
  document.addEventListener("change", function (e) {
    if (e.target && e.target.matches && e.target.matches("#ex-layers input")) {
      const gd = document.querySelector("#ex-scatter .js-plotly-plot");
      if (gd) schedule(gd);
    }
  });
  let pendingScan = false;
  new MutationObserver(function () {
    if (pendingScan) return;
    pendingScan = true;
    setTimeout(function () { pendingScan = false; scan(); }, 100);
  }).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", scan);
  window.explorerSemzoom = {draw: function () { scan(); const gd = document.querySelector("#ex-scatter .js-plotly-plot");
                                                 if (gd) draw(gd, null, true); }};
})();
