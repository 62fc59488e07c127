/* The Layers tab: move the framed images (and the followed ones) from layer to layer in the browser.
 *
 * The server draws the scatter at one layer; its layout.meta holds every layer's frame of the framed
 * images ("frames": layers x m x 2, float32) and of the followed ones ("followed": layers x f x 2, the
 * selection's first n_followed, then the clicked image). goTo(step) eases every point from where it is
 * to that layer's frame with requestAnimationFrame, then names the layer in the title.
 */
(function () {
  "use strict";
  const DURATION = 900;  // ms per step; Play ticks every 1300 ms
  let token = 0;

  function decode(spec) {
    if (!spec || !spec.bdata) return spec;
    if (spec.__decoded) return spec.__decoded;
    const bin = atob(spec.bdata), buf = new ArrayBuffer(bin.length), u8 = new Uint8Array(buf);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    spec.__decoded = new Float32Array(buf);
    return spec.__decoded;
  }

  function graph() {
    const gd = document.querySelector(".depth-scatter .js-plotly-plot");
    return gd && gd.layout && gd.layout.meta && gd.layout.meta.explorer === "depth" && gd.data ? gd : null;
  }

  // the traces that move: [trace index, source array, offset of its first point, count]
  function movers(gd, meta) {
    const hl = [];
    gd.data.forEach(function (t, i) { if (t.name === "highlight") hl.push(i); });
    const f = meta.n_followed, total = decode(meta.followed).length / (2 * meta.layers);
    return [[0, decode(meta.frames), 0, meta.m], [hl[0], decode(meta.followed), 0, f],
            [hl[1], decode(meta.followed), f, total - f]].filter(function (j) { return j[0] !== undefined; });
  }

  function at(src, per, step, off, count) {
    const x = new Float32Array(count), y = new Float32Array(count), base = 2 * (step * per + off);
    for (let i = 0; i < count; i++) { x[i] = src[base + 2 * i]; y[i] = src[base + 2 * i + 1]; }
    return [x, y];
  }

  function shown(gd, idx) {
    const t = gd.data[idx];
    const x = t.x && t.x.bdata ? decode(t.x) : t.x, y = t.y && t.y.bdata ? decode(t.y) : t.y;
    return [Float32Array.from(x || []), Float32Array.from(y || [])];
  }

  function finish(gd, meta, step) {
    const name = meta.titles[step] || "";
    window.Plotly.relayout(gd, {"title.text": meta.title + " · " + name});
    gd.__depthStep = step;
    gd.setAttribute("data-layer", String(step));
    gd.removeAttribute("data-moving");
  }

  function goTo(step) {
    const my = ++token, gd = graph();
    if (!gd || !window.Plotly) return;
    const meta = gd.layout.meta, s = Math.max(0, Math.min(step, meta.layers - 1));
    const jobs = movers(gd, meta).map(function (j) {
      const per = j[1].length / (2 * meta.layers);
      return {idx: j[0], from: shown(gd, j[0]), to: at(j[1], per, s, j[2], j[3])};
    });
    gd.setAttribute("data-moving", "1");
    const t0 = performance.now();
    const tick = function (now) {
      if (my !== token) return;  // a newer step took over from wherever the points are
      const t = Math.min(1, (now - t0) / DURATION);
      const e = t < 0.5 ? 2 * t * t : 1 - Math.pow(-2 * t + 2, 2) / 2;
      const xs = [], ys = [], idx = [];
      jobs.forEach(function (job) {
        const n = job.to[0].length, x = new Float32Array(n), y = new Float32Array(n);
        const same = job.from[0].length === n;
        for (let i = 0; i < n; i++) {
          x[i] = same ? job.from[0][i] + (job.to[0][i] - job.from[0][i]) * e : job.to[0][i];
          y[i] = same ? job.from[1][i] + (job.to[1][i] - job.from[1][i]) * e : job.to[1][i];
        }
        xs.push(x); ys.push(y); idx.push(job.idx);
      });
      window.Plotly.restyle(gd, {x: xs, y: ys}, idx);
      if (t < 1) window.requestAnimationFrame(tick);
      else finish(gd, meta, s);
    };
    window.requestAnimationFrame(tick);
  }

  window.explorerDepth = {goTo: goTo};
})();
