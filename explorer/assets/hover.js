/* Hover images drawn in the browser: no server round trip per hover.
 *
 * Every scatter (class "explorer-scatter") carries layout.meta = {dataset, model, version,
 * n, class_names, sprite, grid, groups}. Its base traces carry their rows in customdata (a typed
 * array) or, coloured by classes, meta.groups tells them (rowOf), so a
 * hover maps (curveNumber, pointNumber) to a row and shows that row's tile of the
 * dataset's sprite sheet, enlarged with crisp pixels. meta.sprite is the dataset's grid
 * (thumbnails.SpriteGrid.meta: tile h and w, tiles per row and per page, the hover's scale):
 * tiles may be any size from 8 to 64 pixels a side, grey or RGB. Nothing of the sprites is
 * fetched before the first hover: a hover asks for its row's page (about 500 tiles, 85-205 kB),
 * shows the tooltip at once and its image as soon as that page is decoded, then fetches the
 * dataset's other pages one or two at a time when the browser is idle, so later hovers find
 * theirs loaded. The tooltip's data-image names the row whose image is ready to paint (equal
 * to data-index once it is). Per-point labels (the model's predictions) are fetched once per
 * dataset and model, after the figure is first drawn.
 */
(function () {
  "use strict";
  // a figure without meta.sprite is of a cache from before image shapes: 28x28 tiles, as then
  const GRID_28 = {h: 28, w: 28, per_row: 100, per_page: 500, scale: 4};
  const TIP_MIN = 126;  // the tooltip's CSS width: a 112 px image and its padding
  const info = {};      // dataset/model -> {labels, pred, conf, class_names} once fetched
  const requested = {}; // dataset/model (labels) and dataset/version (the rest of the sprites) -> true once asked for
  const sheets = {};    // sprite URL -> {img, ready, wait (a promise, once decoded)}
  const PREFETCH_AT_ONCE = 2;  // pages fetched together after the first hover

  function grid(meta) { return meta.sprite || GRID_28; }
  function pageSize(meta, page) {
    const g = grid(meta), count = Math.min(g.per_page, meta.n - page * g.per_page);
    const cols = count > g.per_row ? g.per_row : count;
    return [cols * g.w, Math.ceil(count / g.per_row) * g.h];
  }
  function spriteUrl(meta, page) {
    return "/sprites/" + meta.dataset + "/" + page + ".png?v=" + meta.version;
  }

  // a probability in percent as panels.pct words it: decimals only where 0 or 100 % would mislead
  function pct(v) {
    if (!((v > 99 && v < 100) || (v > 0 && v < 1))) return Math.round(v) + "%";
    for (let d = 1; d <= 2; d++) {
      const r = Number(v.toFixed(d));
      if (r > 0 && r < 100) return v.toFixed(d) + "%";
    }
    return v > 50 ? "99.99%" : "0.01%";
  }

  function infoKey(meta) { return meta.dataset + "/" + (meta.model || ""); }

  function idle(fn, timeout) {
    if (window.requestIdleCallback) window.requestIdleCallback(fn, {timeout: timeout});
    else setTimeout(fn, 200);
  }

  function preload(meta) {
    const labels = "points:" + infoKey(meta);
    if (requested[labels] || meta.explorer === "dynamics") return;
    requested[labels] = true;
    // after first paint: the scatter matters more than labels nobody hovered yet
    idle(function () {
      // fixes=: this page's corrections so far (assets/corrections.js), so a correction is never read from a cache
      const query = [meta.model ? "model=" + encodeURIComponent(meta.model) : "",
                     window.explorerFixes ? "fixes=" + window.explorerFixes : ""].filter(Boolean).join("&");
      fetch("/api/points/" + meta.dataset + ".json" + (query ? "?" + query : ""))
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) { if (j) info[infoKey(meta)] = j; })
        .catch(function () { requested[labels] = false; });
    }, 1500);
  }

  // one sprite page in the browser: decoded now (the page under the pointer) or just fetched
  // (the rest, decoded when first painted); a failed fetch is forgotten, so a later hover retries
  function sheet(url, decodeNow) {
    let s = sheets[url];
    if (s) return s;
    const img = new Image();
    s = sheets[url] = {img: img, ready: false};
    const loaded = new Promise(function (ok, no) { img.onload = ok; img.onerror = no; });
    img.src = url;
    s.wait = (decodeNow && img.decode ? img.decode() : loaded)
      .then(function () { s.ready = true; }, function () { delete sheets[url]; throw new Error(url); });
    return s;
  }

  // the dataset's other pages, after its first hover, a few at a time when the browser is idle
  function prefetchRest(meta, first) {
    const key = meta.dataset + "/" + meta.version;
    if (requested[key]) return;
    requested[key] = true;
    const pages = Math.max(1, Math.ceil(meta.n / grid(meta).per_page)), queue = [];
    for (let i = 1; i < pages; i++) queue.push((first + i) % pages);
    const next = function () {
      const p = queue.shift();
      if (p === undefined) return;
      idle(function () { sheet(spriteUrl(meta, p), false).wait.then(next, next); }, 1000);
    };
    for (let k = 0; k < PREFETCH_AT_ONCE; k++) next();
  }

  function decode(spec) {
    // Plotly keeps {dtype, bdata} in gd.data; decode once and keep it on the spec
    if (spec.__decoded) return spec.__decoded;
    const bin = atob(spec.bdata), buf = new ArrayBuffer(bin.length), u8 = new Uint8Array(buf);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    const T = {i4: Int32Array, u4: Uint32Array, i2: Int16Array, u2: Uint16Array, u1: Uint8Array,
               f4: Float32Array, f8: Float64Array}[spec.dtype] || Int32Array;
    spec.__decoded = new T(buf);
    return spec.__decoded;
  }

  // A colouring by classes sends no customdata: layout.meta.groups is each row's trace, and trace k
  // holds the rows of group k in ascending order. A counting sort makes each trace's rows from it,
  // once per figure. Kept in a WeakMap by the spec, not on it: Plotly.react copies "_" keys of the
  // old layout's objects onto the new figure's, which would hand a new figure the old rows.
  const traceRows = new WeakMap();
  function groupRows(spec) {
    let out = traceRows.get(spec);
    if (out) return out;
    let g = spec;
    if (spec.bdata) {
      const bin = atob(spec.bdata), buf = new ArrayBuffer(bin.length), u8 = new Uint8Array(buf);
      for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
      g = spec.dtype === "u2" ? new Uint16Array(buf) : u8;
    }
    let k = 0;
    for (let i = 0; i < g.length; i++) if (g[i] >= k) k = g[i] + 1;
    const start = new Int32Array(k + 1), rows = new Int32Array(g.length);
    for (let i = 0; i < g.length; i++) start[g[i] + 1]++;
    for (let j = 0; j < k; j++) start[j + 1] += start[j];
    const at = start.slice(0, k);
    for (let i = 0; i < g.length; i++) rows[at[g[i]]++] = i;
    out = {start: start, rows: rows};
    traceRows.set(spec, out);
    return out;
  }

  function rowOf(gd, pt) {
    const full = gd._fullData && gd._fullData[pt.curveNumber];
    if (!full || full.name === "highlight") return null;
    let cd = full.customdata;  // where a trace has its rows, they win
    if (!cd || cd.length === undefined) {
      const raw = gd.data[pt.curveNumber] && gd.data[pt.curveNumber].customdata;
      cd = raw ? (raw.bdata ? decode(raw) : raw) : null;
    }
    if (cd) {
      const row = cd[pt.pointNumber];
      return row === undefined ? null : Number(row);
    }
    const groups = gd.layout && gd.layout.meta && gd.layout.meta.groups;
    if (!groups) return null;
    const g = groupRows(groups), c = pt.curveNumber, i = pt.pointNumber;
    if (!(c >= 0 && c < g.start.length - 1 && i >= 0 && g.start[c] + i < g.start[c + 1])) return null;
    return g.rows[g.start[c] + i];
  }

  function tip() { return document.getElementById("hover-tip"); }
  let hovered = null;   // {gd, row} of the point under the pointer, for clicks

  function show(gd, ev) {
    const el = tip(), meta = gd.layout && gd.layout.meta;
    if (!el || !meta || !ev.points || !ev.points.length) return;
    const row = rowOf(gd, ev.points[0]);
    // a training-dynamics point may show an image the explorer's sample set lacks (row -1):
    // its classes are still worth a tooltip, without a picture
    const dyn = meta.explorer === "dynamics";
    if (row === null || (!dyn && (row < 0 || row >= meta.n))) return;
    const hasImage = row >= 0 && row < meta.n;
    const img = el.querySelector(".hover-img");
    img.style.display = hasImage ? "" : "none";
    const g = grid(meta), s = g.scale;
    let page = "", sh = null;
    if (hasImage) {
      page = Math.floor(row / g.per_page);
      const k = row % g.per_page, size = pageSize(meta, page), url = spriteUrl(meta, page);
      sh = sheet(url, true);  // before the style, which then finds it in the memory cache
      img.style.width = (g.w * s) + "px";
      img.style.height = (g.h * s) + "px";
      img.style.backgroundImage = "url(" + url + ")";
      img.style.backgroundSize = (size[0] * s) + "px " + (size[1] * s) + "px";
      img.style.backgroundPosition = "-" + ((k % g.per_row) * g.w * s) + "px -" +
        (Math.floor(k / g.per_row) * g.h * s) + "px";
    }
    el.style.width = Math.max(TIP_MIN, g.w * s + 14) + "px";
    let d = null;
    if (dyn) {
      // classes at the frame on screen, not the trained model's
      const at = window.explorerDynamics && window.explorerDynamics.describe(gd, ev.points[0].pointNumber);
      if (at) d = {t: at.t, p: at.p, conf: at.conf, names: at.names, id: at.id};
    } else if (info[infoKey(meta)] && hasImage) {
      const i = info[infoKey(meta)];
      d = {t: i.labels[row], p: i.pred[row], conf: i.conf[row], names: i.class_names, id: i.ids && i.ids[row]};
    }
    const text = el.querySelector(".hover-text");
    if (d) {
      const t = d.t, p = d.p, names = d.names;
      text.innerHTML = "";
      const line = function (label, value, cls) {
        const div = document.createElement("div");
        div.textContent = label;
        const b = document.createElement("b");
        b.textContent = value;
        if (cls) b.className = cls;
        div.appendChild(b);
        text.appendChild(div);
      };
      if (d.id !== undefined && d.id !== null) line("Sample #", String(d.id), "sample-id");
      line("True: ", names[t]);
      line("Predicted: ", names[p], t === p ? "ok" : "bad");
      line("Confidence: ", pct(d.conf));
      if (!hasImage) line("", "(image not in the shown sample set)");
      el.classList.toggle("wrong", t !== p);
      el.dataset.true = t; el.dataset.pred = p;
    } else {
      text.textContent = hasImage ? "row " + row : "image not in the shown sample set";
    }
    hovered = {gd: gd, row: row, x: (ev.event || pointer).clientX, y: (ev.event || pointer).clientY}
    el.dataset.index = row;
    el.dataset.dataset = meta.dataset;
    el.dataset.page = page;
    if (!sh) delete el.dataset.image;
    else if (sh.ready) el.dataset.image = row;
    else {
      delete el.dataset.image;  // the tooltip shows its text now and its image once decoded
      sh.wait.then(function () {
        if (el.dataset.index === String(row) && el.dataset.dataset === meta.dataset) el.dataset.image = row;
      }, function () {});
    }
    if (sh) prefetchRest(meta, page);
    // place beside the pointer, flipped near the window's right and bottom edges (a 3-D scatter's
    // events carry no mouse event: the pointer's last position)
    const e = ev.event || pointer, w = Math.max(TIP_MIN, g.w * s + 14) + 16, h = (hasImage ? g.h * s : 0) + 78;
    let x = (e.clientX || 0) + 16, y = (e.clientY || 0) + 16;
    if (x + w > window.innerWidth) x = (e.clientX || 0) - w - 8;
    if (y + h > window.innerHeight) y = Math.max(4, (e.clientY || 0) - h - 8);
    el.style.left = x + "px";
    el.style.top = y + "px";
    el.classList.add("visible");
  }

  function hide() {
    const el = tip();
    if (el) { el.classList.remove("visible"); delete el.dataset.index; delete el.dataset.image; }
  }

  function bind(gd) {
    if (gd.__explorerBound || typeof gd.on !== "function") return;
    gd.__explorerBound = true;
    gd.on("plotly_hover", function (ev) { show(gd, ev); });
    gd.on("plotly_unhover", hide);
    // In select drag mode Plotly turns a click into an empty "selected" event and sends
    // no click at all; either way the point under the pointer is the one clicked.
    const clicked = function (row) {
      if (!window.dash_clientside || !window.dash_clientside.set_props) return;
      reopenDetail();
      // a phone: the detail opens as a sheet over the bottom 40 % of the screen, with the image; the
      // scatter goes to the top, above it, so the next point can be tapped without closing it (the
      // tooltip, left where the finger was before the scroll, goes)
      const card = gd.closest(".main-plot");
      if (card && window.matchMedia && window.matchMedia("(max-width: 760px)").matches) {
        card.scrollIntoView({block: "start"});
        hide();
      }
      window.dash_clientside.set_props("ex-clicked", {data: {ds: gd.layout.meta.dataset, row: row}});
    };
    const open = function () {
      // Plotly unhovers as the press starts: accept the last hover if the press was on it
      if (!hovered || hovered.gd !== gd || !gd.closest("#ex-scatter, #ex-scatter3d") || !pressed) return;
      if (Math.abs(pressed.x - hovered.x) > 8 || Math.abs(pressed.y - hovered.y) > 8) return;
      clicked(hovered.row);
    };
    gd.on("plotly_click", function (ev) {
      // a tap on a touch screen comes with no hover before it: the click names its point, which
      // gets its tooltip (image and classes) and opens as a mouse click would
      const touch = ev && ev.event && (ev.event.pointerType === "touch" || touched);
      if (!touch || !ev.points || !ev.points.length || !gd.closest("#ex-scatter, #ex-scatter3d")) return open();
      const row = rowOf(gd, ev.points[0]), meta = gd.layout && gd.layout.meta;
      if (row === null || !meta || row < 0 || row >= meta.n) return;
      show(gd, ev);
      clicked(row);
    });
    gd.on("plotly_selected", function (ev) { if (ev === undefined) open(); });
    gd.on("plotly_relayouting", hide);
    gd.on("plotly_afterplot", function () {
      if (gd.layout && gd.layout.meta) preload(gd.layout.meta);
      if (!titleUnderToolbar(gd)) narrowLegend(gd);
    });
    if (gd.layout && gd.layout.meta) preload(gd.layout.meta);
  }

  // Where the title and Plotly's toolbar (top right, about 250 px) do not fit side by side, the title goes
  // under the toolbar and the plot a line lower (at 390 px the toolbar covered "CNN · UMAP"); whether
  // they fit depends on the widths only, so moving the title never moves it back.  True if it relaid out.
  const TITLE_TOP = 40, TITLE_LOW = 68;
  const LAID_OUT = {scatter: true, depth: true};  // the scatters these two adjust: Explore's kind and Layers'
  function titleUnderToolbar(gd) {
    const lay = gd.layout, Plotly = window.Plotly;
    if (!Plotly || !lay || !lay.meta || !LAID_OUT[lay.meta.explorer] || !(gd.clientWidth > 0)) return false;
    const title = gd.querySelector(".gtitle"), bar = gd.querySelector(".modebar");
    if (!title || !bar) return false;
    const crowded = title.getBoundingClientRect().width + bar.getBoundingClientRect().width + 24 > gd.clientWidth;
    const low = lay.margin && lay.margin.t === TITLE_LOW;
    if (crowded === low) return false;
    Plotly.relayout(gd, crowded
      ? {"margin.t": TITLE_LOW, "title.yref": "container", "title.yanchor": "top", "title.y": 1 - 34 / gd.clientHeight}
      : {"margin.t": TITLE_TOP, "title.yref": null, "title.yanchor": null, "title.y": null});
    return true;
  }

  // On a phone a legend or colour bar beside the plot leaves the points half the width: put it
  // underneath. The server cannot know the width; afterplot runs again after this change, which
  // then finds it done (and a figure the server redraws is turned again).
  // 720: a Compare models half at 1366 px (about 660 px) too, where the legend beside took 40 % of it
  const NARROW = 720;
  function narrowLegend(gd) {
    const lay = gd.layout, Plotly = window.Plotly;
    if (!Plotly || !lay || !lay.meta || !LAID_OUT[lay.meta.explorer] || !(gd.clientWidth > 0)) return;
    const narrow = gd.clientWidth < NARROW;
    if (lay.meta.many_classes) {
      // dozens of classes would fill the phone's screen under the plot: no legend there (the hover
      // names each point's class); back beside the plot when wide again, unless the figure changed
      if (narrow && lay.showlegend !== false) {
        gd.__legendHiddenFor = lay.meta;
        Plotly.relayout(gd, {showlegend: false});
        return;
      }
      if (!narrow && gd.__legendHiddenFor === lay.meta) {
        gd.__legendHiddenFor = null;
        Plotly.relayout(gd, {showlegend: true});
        return;
      }
    } else if (lay.showlegend !== false && narrow !== (lay.legend && lay.legend.orientation === "h")) {
      Plotly.relayout(gd, narrow
        ? {"legend.orientation": "h", "legend.x": 0, "legend.xanchor": "left", "legend.y": -0.01,
           "legend.yanchor": "top", "legend.title.text": ""}
        : {"legend.orientation": "v", "legend.x": null, "legend.xanchor": null, "legend.y": null,
           "legend.yanchor": null, "legend.title.text": "Click: hide · double-click: isolate"});
      return;
    }
    const scaled = (gd.data || []).map(function (t, i) { return [t, i]; })
      .filter(function (ti) { return ti[0].marker && ti[0].marker.showscale; });
    // a colour bar stays upright (turned under the plot, scattergl leaves its old ticks behind): slimmer
    scaled.forEach(function (ti) {
      const bar = ti[0].marker.colorbar || {};
      if (narrow === (bar.thickness === 8)) return;
      Plotly.restyle(gd, narrow
        ? {"marker.colorbar.thickness": 8, "marker.colorbar.title.side": "right", "marker.colorbar.xpad": 2,
           "marker.colorbar.tickfont.size": 10}
        : {"marker.colorbar.thickness": 12, "marker.colorbar.title.side": null, "marker.colorbar.xpad": null,
           "marker.colorbar.tickfont.size": null}, [ti[1]]);
    });
  }

  function scan() {
    document.querySelectorAll(".explorer-scatter .js-plotly-plot").forEach(bind);
  }

  let pressed = null, pointer = {}, touched = false;
  document.addEventListener("mousedown", function (e) { pressed = {x: e.clientX, y: e.clientY}; }, true);
  // the last press was a finger (a tap's click may carry a mouse event made up from it)
  document.addEventListener("pointerdown", function (e) { touched = e.pointerType === "touch"; }, true);
  document.addEventListener("touchstart", function () { touched = true; }, {capture: true, passive: true});
  // Plotly reports a hover once per point, where the pointer first came near it (up to 20 px
  // away); follow the pointer while that point stays hovered, so that a press on it counts
  document.addEventListener("mousemove", function (e) {
    pointer = {clientX: e.clientX, clientY: e.clientY};
    const el = tip();
    if (hovered && el && el.classList.contains("visible")) { hovered.x = e.clientX; hovered.y = e.clientY; }
  }, true);

  // a click on a gallery tile or a neighbour opens it in the detail panel; a click on a
  // suspect of the Label issues tab opens it there too, in the Explore tab (ringed on the scatter)
  function openItem(item) {
    if (!window.dash_clientside || !window.dash_clientside.set_props) return;
    reopenDetail();
    window.dash_clientside.set_props("ex-clicked",
      {data: {ds: item.dataset.dataset, row: parseInt(item.dataset.row, 10)}});
    if (item.classList.contains("issue-card")) {
      window.dash_clientside.set_props("tabs", {value: "explore"});
      window.scrollTo(0, 0);
    }
  }
  // on a phone the detail panel is a sheet over the scatter (style.css): its × puts it back in the page,
  // the next point opened brings it up again
  function reopenDetail() {
    document.querySelectorAll(".detail.dismissed").forEach(function (d) { d.classList.remove("dismissed"); });
  }
  document.addEventListener("click", function (e) {
    const close = e.target.closest && e.target.closest(".detail-close");
    if (close) { close.closest(".detail").classList.add("dismissed"); return; }
    const item = e.target.closest && e.target.closest(".gallery-item, .nb-item, .issue-card");
    if (item) openItem(item);
  });
  document.addEventListener("keydown", function (e) {
    const item = (e.key === "Enter" || e.key === " ") && e.target.closest && e.target.closest(".issue-card");
    if (item) { e.preventDefault(); openItem(item); }
  });

  // Plotly mutates the DOM on every hover: rescan at most once a frame
  let pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    setTimeout(function () { pending = false; scan(); }, 50);
  }).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", scan);
  // semzoom.js draws the images from the same sprite pages and frames them by the same labels
  window.explorerHover = {rowOf: rowOf, scan: scan, pct: pct, sheet: sheet, spriteUrl: spriteUrl, grid: grid,
                          preload: preload,
                          // a correction landed: the hover labels are asked for again when next needed
                          forget: function () {
                            Object.keys(info).forEach(function (k) { delete info[k]; });
                            Object.keys(requested).forEach(function (k) { if (k.startsWith("points:")) delete requested[k]; });
                          },
                          labels: function (meta) { return info[infoKey(meta)] || null; }};
})();
