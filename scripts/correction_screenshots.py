"""The screenshots of label corrections for the README, taken by ``scripts/screenshots.py --only corrections``
on a cache whose corrections log it may write (a copy): suspects reviewed with the keyboard in the Label
issues grid, the corrections bar with its switch and a corrected image's detail panel, and the same on a phone.
"""
from __future__ import annotations


def take_corrections(url: str, page_at, shot, ds: str, views: set[str]) -> None:
    if "corrections" not in views:
        return
    page = page_at(1366, 768)
    page.goto(f"{url}/?tab=issues&ds={ds}&model=cnn")
    page.wait_for_selector("#li-grid .issue-card", timeout=60_000)
    page.locator("#li-grid .issue-card").first.focus()
    rows = page.locator("#li-grid .issue-card").evaluate_all("els => els.map(e => e.dataset.row)")
    for key in ("a", "a", "c", "a", "m", "6", "a"):  # a review: take, take, right, take, ambiguous, Shirt, take
        page.keyboard.press(key)
        page.wait_for_timeout(700)
    page.wait_for_timeout(1500)
    shot(page, "corrections-review-1366x768.png")
    page.context.close()
    for w, h in ((1366, 768), (390, 844)):
        page = page_at(w, h)
        page.goto(f"{url}/?ds={ds}&model=cnn&proj=umap&point={rows[0]}")
        page.wait_for_selector(".fix-row .fix-note", timeout=60_000)
        page.wait_for_timeout(2000)
        if w > 1000:  # the detail panel's corrections, under the matrix: scrolled into view
            page.locator(".fix-row").scroll_into_view_if_needed()
            page.wait_for_timeout(800)
        shot(page, f"corrections-explore-{w}x{h}.png")
        page.context.close()
