"""HTML escaping for every page the workflow writes (review pages, report)."""

from __future__ import annotations

import html


def esc(text) -> str:
    """``text`` (None as empty) escaped for HTML element content and quoted attributes."""
    return html.escape("" if text is None else str(text), quote=True)
