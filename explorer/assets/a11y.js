/* The filter bar's sliders, as a screen reader speaks them (issue 26): the confidence slider runs in
 * "nines" (0.8 is 84 %, its end 4 is 99.99 % and above), which its handles announced as they are;
 * each handle gets a name and its value in words, kept up as it moves. */
(function () {
  "use strict";
  // slider id -> [name of each handle, its value in words]
  const NAMES = {
    "ex-flt-conf": [["Lowest confidence shown", "Highest confidence shown"], function (v) {
      const c = 1 - Math.pow(10, -v);  // nines -> confidence (explorer/figures.py nines())
      if (v >= 4) return "99.99 % and above";
      return (v <= 0 ? "0" : (100 * c).toFixed(c >= 0.99 ? 2 : 0)) + " %";
    }],
    "ex-flt-issue": [["Lowest label-issue score shown"], function (v) { return v.toFixed(2); }],
  };

  function label(slider) {
    const spec = NAMES[slider.id];
    slider.querySelectorAll("[role=slider]").forEach(function (h, i) {
      const name = spec[0][Math.min(i, spec[0].length - 1)];
      const v = parseFloat(h.getAttribute("aria-valuenow"));
      if (h.getAttribute("aria-label") !== name) h.setAttribute("aria-label", name);
      const words = isNaN(v) ? "" : spec[1](v);
      if (h.getAttribute("aria-valuetext") !== words) h.setAttribute("aria-valuetext", words);
    });
  }

  function scan() {
    Object.keys(NAMES).forEach(function (id) {
      const slider = document.getElementById(id);
      if (slider) label(slider);
    });
  }
  let pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; scan(); });
  }).observe(document.documentElement, {childList: true, subtree: true, attributes: true,
                                         attributeFilter: ["aria-valuenow"]});
  document.addEventListener("DOMContentLoaded", scan);
})();
