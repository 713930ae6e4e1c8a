"""Text that stays readable on a coloured background, whatever the theme.

Textual's `auto` text colour picks black or white by its own brightness estimate, which leaves some
themes' accents (solarized's violet) under WCAG's 4.5:1 for normal text; black or white, whichever
contrasts more by WCAG's formula, is never under 4.58:1.
"""

from __future__ import annotations

from rich.color import Color

BLACK = Color.from_rgb(0, 0, 0)
WHITE = Color.from_rgb(255, 255, 255)


def luminance(color: Color) -> float:
    """WCAG's relative luminance (0 black to 1 white)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = color.get_truecolor()
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(one: Color, other: Color) -> float:
    """WCAG's contrast ratio, 1 (none) to 21."""
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable_on(background: Color | None, fallback: Color | None) -> Color | None:
    """Black or white on `background`; an ANSI colour (the terminal's palette) keeps `fallback`."""
    if background is None or background.triplet is None:
        return fallback
    return max((BLACK, WHITE), key=lambda text: contrast(text, background))
