/* Keyboard on the Explore tab: Escape clears the selection, the chosen cell and the clicked point;
 * the arrow keys step through the gallery, opening each image in the detail panel (as a click on
 * its tile does), and on past a page's end to the next page. Keys typed into a field or a slider are theirs. */
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
    const tiles = galleryTiles();
    if (!step || !tiles.length) return;
    e.preventDefault();  // the page would scroll
    const img = document.getElementById("detail-img");
    const at = img ? tiles.findIndex(t => t.dataset.row === img.dataset.row) : -1;
    // past the page's last (first) tile: the next (previous) page, from its first (last) tile
    const turn = at < 0 ? null : document.getElementById(step > 0 && at === tiles.length - 1 ? "ex-page-next"
                                                         : step < 0 && at === 0 ? "ex-page-prev" : "");
    if (turn && !turn.disabled) {
      onNextGallery(step > 0 ? "first" : "last");
      turn.click();
      return;
    }
    const next = at < 0 ? (step > 0 ? 0 : tiles.length - 1) : Math.min(tiles.length - 1, Math.max(0, at + step));
    choose(tiles[next]);
  });
  // a new page: React may reuse the tiles' elements, and the outline must not stay on another image
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("#ex-page-next, #ex-page-prev")) {
      galleryTiles().forEach(t => t.classList.remove("current"));
    }
  });
  function galleryTiles() {
    return Array.from(document.querySelectorAll("#ex-gallery .gallery-item"));
  }
  function choose(tile) {
    galleryTiles().forEach(t => t.classList.toggle("current", t === tile));
    tile.scrollIntoView({block: "nearest"});
    set("ex-clicked", {ds: tile.dataset.dataset, row: parseInt(tile.dataset.row, 10)});
  }
  // once the gallery shows its new page (React may reuse the tiles, changing only their rows)
  function onNextGallery(which) {
    const gallery = document.getElementById("ex-gallery");
    const before = galleryTiles().map(t => t.dataset.row).join();
    const obs = new MutationObserver(function () {
      const tiles = galleryTiles();
      if (!tiles.length || tiles.map(t => t.dataset.row).join() === before) return;
      obs.disconnect();
      choose(which === "first" ? tiles[0] : tiles[tiles.length - 1]);
    });
    obs.observe(gallery, {childList: true, subtree: true, attributes: true, attributeFilter: ["data-row"]});
    setTimeout(() => obs.disconnect(), 10000);  // the page never came: stop waiting
  }
})();
