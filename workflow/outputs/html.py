"""HTML escaping for every page the workflow writes (review pages, report)."""

from __future__ import annotations

import html


def esc(text) -> str:
    """``text`` (None as empty) escaped for HTML element content and quoted attributes."""
    return html.escape("" if text is None else str(text), quote=True)


def esc_text(text) -> str:
    """``text`` (None as empty) escaped for HTML element content only (``&``, ``<``, ``>``):
    quotes stay as they are, a sixth of the bytes of ``&#x27;``; never for an attribute."""
    return html.escape("" if text is None else str(text), quote=False)
