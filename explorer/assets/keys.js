/* Keyboard on the Explore tab: Escape clears the selection, the chosen cell and the clicked point;
 * the arrow keys step through the gallery, opening each image in the detail panel (as a click on
 * its tile does). Keys typed into a field or a slider are theirs. */
(function () {
  "use strict";
  function set(id, data) {
    if (window.dash_clientside && window.dash_clientside.set_props) window.dash_clientside.set_props(id, {data: data});
  }
  function exploreShown() {
    const panel = document.getElementById("panel-explore");
    return panel && panel.style.display !== "none";
  }
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || !exploreShown()) return;
    if (e.target.closest && e.target.closest("input, textarea, select, [role=slider], [contenteditable]")) return;
    if (e.key === "Escape") {
      set("ex-selection", null);
      set("ex-cell", null);
      set("ex-clicked", null);
      return;
    }
    const step = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1}[e.key];
    const tiles = Array.from(document.querySelectorAll("#ex-gallery .gallery-item"));
    if (!step || !tiles.length) return;
    e.preventDefault();  // the page would scroll
    const img = document.getElementById("detail-img");
    const at = img ? tiles.findIndex(t => t.dataset.row === img.dataset.row) : -1;
    const next = at < 0 ? (step > 0 ? 0 : tiles.length - 1) : Math.min(tiles.length - 1, Math.max(0, at + step));
    const tile = tiles[next];
    tiles.forEach(t => t.classList.toggle("current", t === tile));
    tile.scrollIntoView({block: "nearest"});
    set("ex-clicked", {ds: tile.dataset.dataset, row: parseInt(tile.dataset.row, 10)});
  });
})();
