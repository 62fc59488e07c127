/* The filter bar's histograms: a double-click lets the filter a brush set go (its slider back to
 * "filters nothing"), as a double-click clears a selection on the scatter. Plotly's own deselect
 * cannot say it: it also fires each time a histogram is redrawn. */
(function () {
  "use strict";
  const RESET = {"ex-flt-hist-conf": ["ex-flt-conf", [0, 4]], "ex-flt-hist-issue": ["ex-flt-issue", 0]};
  const DOUBLE_MS = 400;
  // Plotly covers the page while a button is down, so no dblclick event reaches the histogram:
  // two clicks on it, close together, are one
  let last = null;
  document.addEventListener("click", function (e) {
    const hist = e.target.closest && e.target.closest("#ex-flt-hist-conf, #ex-flt-hist-issue");
    if (!hist) return;
    const now = Date.now();
    if (last && last.id === hist.id && now - last.at < DOUBLE_MS && window.dash_clientside
        && window.dash_clientside.set_props) {
      const [slider, value] = RESET[hist.id];
      window.dash_clientside.set_props(slider, {value: value});
      last = null;
      return;
    }
    last = {id: hist.id, at: now};
  }, true);
})();
