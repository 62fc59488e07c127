"""The in-page JavaScript probes of :mod:`benchmarks.app`: drawn marker, timeline, points, hovers.

Each is a string handed to Playwright: :data:`DRAWN_JS` as an init script (before any page
script), the others to ``page.evaluate``.
"""
from __future__ import annotations

# Runs before any page script: marks the moment the main scatter is drawn with all points.
DRAWN_JS = r"""
(() => {
  const S = window.__bench = {drawn: null, afterplot: null, n: null, afterplots: 0};
  const SEL = '#ex-scatter .js-plotly-plot';
  function total(gd) {
    let s = 0;
    for (const t of (gd._fullData || [])) if (t.name !== 'highlight' && t.visible === true) s += t._length || 0;
    return s;
  }
  function finishGL(gd) {
    // software WebGL runs the draw calls in the GPU process: reading a pixel waits for them
    const c = gd.querySelector('canvas.gl-canvas-context');
    if (!c) return;
    let gl = null;
    try { gl = c.getContext('webgl') || c.getContext('webgl2'); } catch (e) { gl = null; }
    if (gl) gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  }
  function onAfter(gd) {
    S.afterplots++;
    if (S.afterplot !== null) return;
    const meta = gd.layout && gd.layout.meta;
    if (!meta || !meta.n || total(gd) < meta.n) return;
    S.afterplot = performance.now();
    S.n = total(gd);
    requestAnimationFrame(() => { finishGL(gd); S.drawn = performance.now(); });
  }
  function poll() {
    const gd = document.querySelector(SEL);
    if (gd && typeof gd.on === 'function' && !gd.__benchBound) {
      gd.__benchBound = true;
      gd.on('plotly_afterplot', () => onAfter(gd));
    }
    // a figure drawn between two polls (afterplot already past) still counts once complete
    if (gd && gd.__benchBound && S.afterplot === null && gd._fullLayout && gd._fullLayout._size) onAfter(gd);
    if (S.drawn === null) requestAnimationFrame(poll);
  }
  requestAnimationFrame(poll);
})();
"""

TIMELINE_JS = r"""() => {
  const res = performance.getEntriesByType('resource');
  const nav = performance.getEntriesByType('navigation')[0];
  const plotly = res.find(e => /plotly[^/]*\.js/.test(e.name) && !/async-/.test(e.name));
  const cbs = res.filter(e => e.name.includes('_dash-update-component'));
  const fig = cbs.reduce((a, b) => (!a || b.encodedBodySize > a.encodedBodySize) ? b : a, null);
  // what the figure request waited for: the URL callback (the first) and the callbacks answered before it left
  const waited = fig ? cbs.filter(e => e.responseEnd <= fig.startTime) : [];
  return {drawn: window.__bench.drawn, afterplot: window.__bench.afterplot, n: window.__bench.n,
          dcl: nav ? nav.domContentLoadedEventEnd : null,
          plotly_end: plotly ? plotly.responseEnd : null,
          fig_start: fig ? fig.startTime : null, fig_end: fig ? fig.responseEnd : null,
          url_cb: cbs.length ? [cbs[0].startTime, cbs[0].responseEnd] : null, waited: waited.length,
          waited_end: waited.length ? Math.max(...waited.map(e => e.responseEnd)) : null,
          waited_start: waited.length > 1 ? Math.min(...waited.slice(1).map(e => e.startTime)) : null,
          meta: document.querySelector('#ex-scatter .js-plotly-plot').layout.meta};
}"""

POINTS_JS = r"""() => {
  const gd = document.querySelector('#ex-scatter .js-plotly-plot');
  const fl = gd._fullLayout, box = gd.getBoundingClientRect();
  const rows = [], xs = [], ys = [];
  gd._fullData.forEach((t, c) => {
    if (t.name === 'highlight' || t.visible !== true) return;
    for (let i = 0; i < t._length; i++) {
      rows.push(window.explorerHover.rowOf(gd, {curveNumber: c, pointNumber: i}));
      xs.push(box.left + fl._size.l + fl.xaxis.l2p(t.x[i]));
      ys.push(box.top + fl._size.t + fl.yaxis.l2p(t.y[i]));
    }
  });
  return {rows: rows, x: xs, y: ys,
          plot: [box.left + fl._size.l, box.top + fl._size.t, fl._size.w, fl._size.h]};
}"""

# Times each hover to its image painted: the tooltip's data-image (set by hover.js once the row's
# sprite page is decoded, at once when it already was) equal to its data-index, then the next frame.
HOVER_HOOK_JS = r"""() => {
  if (window.__hov) return;
  const H = window.__hov = {move: null, moveNow: null, seen: null, shown: null, results: []};
  window.addEventListener('mousemove', e => { H.move = e.timeStamp; H.moveNow = performance.now(); }, true);
  const el = document.getElementById('hover-tip');
  new MutationObserver(() => {
    const idx = el.dataset.index;
    if (idx === undefined || !el.classList.contains('visible')) return;
    if (idx !== H.seen) { H.seen = idx; H.shown = performance.now(); }  // tooltip (text) updated
    if (el.dataset.image !== idx || H.done === idx) return;
    H.done = idx;
    const rec = {row: Number(idx), move: H.move, moveNow: H.moveNow, mut: H.shown, ready: performance.now()};
    requestAnimationFrame(() => {
      rec.raf = performance.now();
      const ch = new MessageChannel();  // runs after this frame's style, layout and paint
      ch.port1.onmessage = () => { rec.paint = performance.now(); H.results.push(rec); };
      ch.port2.postMessage(0);
    });
  }).observe(el, {attributes: true, attributeFilter: ['data-index', 'data-image', 'class']});
}"""

# Every sprite page the page has fetched so far: start time (ms since navigation), bytes on the wire, URL.
SPRITES_JS = r"""() => performance.getEntriesByType('resource').filter(e => e.name.includes('/sprites/'))
  .map(e => ({start: e.startTime, end: e.responseEnd, bytes: e.transferSize || e.encodedBodySize, url: e.name}))"""

# The alternative design, measured on the same kind of mouse moves: on each Plotly hover,
# fetch the row's image from the server, decode it and paint it (in an <img> of our own).
SERVER_HOVER_JS = r"""() => {
  if (window.__srv) return;
  const gd = document.querySelector('#ex-scatter .js-plotly-plot');
  const H = window.__srv = {move: null, results: []};
  window.addEventListener('mousemove', e => { H.move = e.timeStamp; }, true);
  const img = document.createElement('img');
  img.style.cssText = 'position:fixed;right:0;bottom:0;width:112px;height:112px;z-index:2000;' +
                      'image-rendering:pixelated;pointer-events:none';
  document.body.appendChild(img);
  gd.on('plotly_hover', ev => {
    const move = H.move, row = window.explorerHover.rowOf(gd, ev.points[0]);
    if (row === null) return;
    fetch('/thumb/' + gd.layout.meta.dataset + '/' + row + '.png?scale=4', {cache: 'no-store'})
      .then(r => r.blob())
      .then(b => { const u = URL.createObjectURL(b); img.src = u; return img.decode().then(() => u); })
      .then(u => requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => { H.results.push({row: row, move: move, paint: performance.now()});
                                     URL.revokeObjectURL(u); };
        ch.port2.postMessage(0);
      }));
  });
}"""

ROUND_TRIP_JS = r"""async (args) => {
  const out = [];
  for (const row of args.rows) {
    const t0 = performance.now();
    const r = await fetch('/thumb/' + args.ds + '/' + row + '.png?scale=4', {cache: 'no-store'});
    const bmp = await createImageBitmap(await r.blob());
    out.push(performance.now() - t0);
    bmp.close();
  }
  return out;
}"""
