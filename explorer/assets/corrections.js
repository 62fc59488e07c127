/* Label corrections in the page (explorer/corrections.py).
 * - Every request of the page says which labels it shows (header X-Labels, from the URL's labels=).
 * - The detail panel's buttons ([data-fix] in a .fix-row) and the Label issues grid's keys send a
 *   correction to the server through the corr-action store; its callback writes the log and bumps
 *   corr-version, and the views showing labels draw again.
 * - Keys on a focused suspect of the grid: A take the suggested label, C label is right, M ambiguous,
 *   0-9 relabel as that class, U undo; each moves on to the next suspect. Arrows move too. */
(function () {
  "use strict";
  // the labels this page was loaded with; the switch loads the page again with the others
  window.explorerLabels = new URLSearchParams(window.location.search).get("labels") === "original"
    ? "original" : "corrected";
  const plainFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    const url = typeof input === "string" ? input : (input && input.url) || "";
    if (url.startsWith("/") || url.startsWith(window.location.origin)) {
      init = Object.assign({}, init || {});
      const headers = new Headers(init.headers || (typeof input !== "string" && input.headers) || {});
      headers.set("X-Labels", window.explorerLabels);
      init.headers = headers;
    }
    return plainFetch(input, init);
  };

  window.explorerFixes = 0;
  // the cards of the Label issues grid a correction touched (the server's "corr-done": {dataset, marks: {row:
  // [action, badge] or null}}): marked in place, as the grid draws them (explorer/tabs/issues.py's card)
  window.explorerCorrections = {mark: function (done) {
    inFlight = 0;
    setTimeout(pump, 0);
    if (!done || !done.marks) return;
    Object.keys(done.marks).forEach(function (row) {
      const mark = done.marks[row];
      document.querySelectorAll('#li-grid .issue-card[data-row="' + row + '"][data-dataset="' + done.dataset + '"]')
        .forEach(function (card) {
          card.classList.remove("decided", "relabel", "accept", "ambiguous", "confirmed");
          if (mark) {
            card.classList.add("decided", mark[0]);
            card.dataset.decision = mark[1];
          } else {
            delete card.dataset.decision;
          }
        });
    });
  }};
  // one correction in flight at a time: Dash sends only the last of several changes of an input made while its
  // callback is queued, so keys pressed faster than the server answers would lose corrections
  const queue = [];
  let inFlight = 0;  // when the correction in flight was sent (0: none)
  function pump() {
    if (inFlight && Date.now() - inFlight < 5000) return;  // 5 s: a refused one never answers
    const data = queue.shift();
    if (!data) { inFlight = 0; return; }
    inFlight = Date.now();
    window.explorerFixes += 1;
    if (window.explorerHover && window.explorerHover.forget) window.explorerHover.forget();
    window.dash_clientside.set_props("corr-action", {data: data});
  }
  function send(data) {
    data.nonce = Date.now() + Math.random();
    queue.push(data);
    pump();
  }

  // the detail panel's buttons
  document.addEventListener("click", function (e) {
    const button = e.target.closest && e.target.closest("[data-fix]");
    if (!button) return;
    const box = button.closest(".fix-row");
    const action = button.dataset.fix;
    const data = {dataset: box.dataset.dataset, model: box.dataset.model, rows: [parseInt(box.dataset.fixRow, 10)],
                  action: action};
    if (action === "relabel") data.new = parseInt(box.querySelector(".fix-select").value, 10);
    send(data);
  });

  function cards() { return Array.from(document.querySelectorAll("#li-grid .issue-card")); }
  function focusCard(card) {
    if (!card) return;
    card.focus();
    card.scrollIntoView({block: "nearest"});
  }
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const card = e.target.closest && e.target.closest(".issue-card");
    if (!card) return;
    const all = cards();
    const at = all.indexOf(card);
    const move = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, j: 1, k: -1}[e.key];
    if (move) {
      e.preventDefault();
      focusCard(all[Math.min(all.length - 1, Math.max(0, at + move))]);
      return;
    }
    const key = e.key.toLowerCase();
    if (key === "u") {  // the page's last correction taken back, in the queue after those still to go
      e.preventDefault();
      send({undo: true});
      return;
    }
    const row = parseInt(card.dataset.row, 10);
    const data = {dataset: card.dataset.dataset, model: card.dataset.model, rows: [row]};
    if (key === "a") data.action = "accept";
    else if (key === "c") data.action = "confirmed";
    else if (key === "m") data.action = "ambiguous";
    else if (/^[0-9]$/.test(key)) { data.action = "relabel"; data.new = parseInt(key, 10); }
    else return;
    e.preventDefault();
    focusCard(all[at + 1] || card);  // on to the next suspect: the cards are marked in place, focus stays put
    send(data);
  });
})();
