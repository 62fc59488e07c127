/* What a screen reader and a keyboard meet (issue 26), repaired in the page as Dash draws it; checked by
 * axe-core in tests/test_explorer_browser_a11y.py.
 *
 * - Sliders: each handle gets a name and its value in words, kept up as it moves. The confidence slider
 *   runs in "nines" (0.8 is 84 %, its end 4 is 99.99 % and above), which its handles announced as they are.
 * - Dash 4 draws RadioItems and Checklist as a "listbox" of "option" labels, each wrapping a native input:
 *   an unnamed field with controls nested in controls. They become a named radio group (or group) of
 *   their native inputs, named by their control's label.
 * - A Dropdown's Tab stop is an input hidden from screen readers that hands the focus to its button: the
 *   button becomes the Tab stop, named by its control's label and its value.
 * - The tabs are plain divs a keyboard cannot reach: they become a tab list, reached with Tab, switched
 *   with Enter or Space, moved along with the arrow keys.
 */
(function () {
  "use strict";
  // slider id -> [name of each handle, its value in words]
  const SLIDERS = {
    "ex-flt-conf": [["Lowest confidence shown", "Highest confidence shown"], function (v) {
      const c = 1 - Math.pow(10, -v);  // nines -> confidence (explorer/figures.py nines())
      if (v >= 4) return "99.99 % and above";
      return (v <= 0 ? "0" : (100 * c).toFixed(c >= 0.99 ? 2 : 0)) + " %";
    }],
    "ex-flt-issue": [["Lowest label-issue score shown"], function (v) { return v.toFixed(2); }],
    "dy-frame": [["Training frame"], function () {
      const shown = document.getElementById("dy-frame-label");
      return shown ? shown.textContent.trim() : "";
    }],
    "ly-frame": [["Layer of the network"], function (v) {  // the layer's title, as the slider's marks name it
      const gd = document.querySelector(".depth-scatter .js-plotly-plot"), meta = gd && gd.layout && gd.layout.meta;
      return meta && meta.titles && meta.titles[v] !== undefined ? "layer " + v + ": " + meta.titles[v] : String(v);
    }],
  };

  function set(el, name, value) {
    if (value === null) { if (el.hasAttribute(name)) el.removeAttribute(name); }
    else if (el.getAttribute(name) !== value) el.setAttribute(name, value);
  }

  let uid = 0;
  // the id of the label of the control ``el`` sits in (its ``.ctl``), made where it has none
  function labelId(el) {
    const ctl = el.closest(".ctl");
    const label = ctl && ctl.querySelector(".ctl-label");
    if (!label) return null;
    if (!label.id) label.id = "a11y-label-" + (++uid);
    return label.id;
  }

  function sliders() {
    Object.keys(SLIDERS).forEach(function (id) {
      const slider = document.getElementById(id);
      if (!slider) return;
      const spec = SLIDERS[id];
      slider.querySelectorAll("[role=slider]").forEach(function (h, i) {
        const v = parseFloat(h.getAttribute("aria-valuenow"));
        set(h, "aria-label", spec[0][Math.min(i, spec[0].length - 1)]);
        set(h, "aria-valuetext", isNaN(v) ? "" : spec[1](v));
      });
    });
  }

  function optionLists() {
    document.querySelectorAll(".dash-options-list").forEach(function (list) {
      set(list, "role", list.classList.contains("dash-radioitems") ? "radiogroup" : "group");
      set(list, "aria-multiselectable", null);
      const by = labelId(list);
      if (by) set(list, "aria-labelledby", by);
      list.querySelectorAll(".dash-options-list-option").forEach(function (o) {
        set(o, "role", null);
        set(o, "aria-selected", null);
      });
    });
  }

  function dropdowns() {
    document.querySelectorAll("input.dash-dropdown-focus-target").forEach(function (target) {
      const button = target.parentElement.querySelector("button.dash-dropdown");
      if (!button) return;
      // the button is the control (it opens with Enter or the down arrow): the Tab stop, not its stand-in
      set(target, "tabindex", "-1");
      if (!button.disabled) set(button, "tabindex", "0");
      if (!button.dataset.a11yBy) button.dataset.a11yBy = button.getAttribute("aria-labelledby") || "";
      const by = labelId(button);
      set(button, "aria-labelledby", [by, button.dataset.a11yBy].filter(Boolean).join(" ") || null);
    });
  }

  function tabs() {
    document.querySelectorAll(".tab-container").forEach(function (list) {
      set(list, "role", "tablist");
      if (!list.dataset.a11yWatched) {  // the tab shown is a class on its tab
        list.dataset.a11yWatched = "1";
        observer.observe(list, {subtree: true, attributes: true, attributeFilter: ["class"]});
      }
      list.querySelectorAll(":scope > .tab").forEach(function (tab) {
        const selected = tab.classList.contains("tab--selected");
        set(tab, "role", "tab");
        set(tab, "aria-selected", selected ? "true" : "false");
        set(tab, "tabindex", selected ? "0" : "-1");  // one stop in the tab order; the arrows move along
        if (selected && list.dataset.a11yShown !== tab.textContent) {  // a phone's row scrolls: show the tab chosen
          list.dataset.a11yShown = tab.textContent;
          const row = tab.closest(".tabs") || list, t = tab.getBoundingClientRect(), r = row.getBoundingClientRect();
          if (t.left < r.left || t.right > r.right) row.scrollLeft += t.left - r.left - 8;
        }
      });
    });
  }

  document.addEventListener("keydown", function (e) {
    const tab = e.target.closest && e.target.closest(".tab-container > .tab");
    if (!tab) return;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      tab.click();
    } else if (e.key === "ArrowRight" || e.key === "ArrowLeft" || e.key === "Home" || e.key === "End") {
      const all = Array.from(tab.parentElement.querySelectorAll(":scope > .tab"));
      const i = all.indexOf(tab), n = all.length;
      const j = e.key === "Home" ? 0 : e.key === "End" ? n - 1 : (i + (e.key === "ArrowRight" ? 1 : n - 1)) % n;
      e.preventDefault();
      all[j].focus();
      all[j].click();
    }
  });

  function scan() {
    sliders();
    optionLists();
    dropdowns();
    tabs();
  }
  let pending = false;
  const observer = new MutationObserver(function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; scan(); });
  });
  // not "class" over the whole page: Plotly changes classes on every frame of a drag (the tab list's own
  // observer in tabs() follows the tab shown)
  observer.observe(document.documentElement, {childList: true, subtree: true, attributes: true,
                                              attributeFilter: ["aria-valuenow", "aria-selected", "tabindex"]});
  document.addEventListener("DOMContentLoaded", scan);
})();
