"""The skip link's focus ring stands out from the green header behind it and from the
link's own background (WCAG 1.4.11: 3:1 at least)."""

import re


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def rgb(css: str) -> tuple[int, int, int]:
    return tuple(int(n) for n in re.findall(r"\d+", css)[:3])


def test_the_skip_link_focused_by_the_keyboard_has_a_ring_seen_on_both_sides(page, db):
    page.goto("/accessibilite/")
    page.keyboard.press("Tab")
    link = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    style = link.evaluate(
        """element => {
            const own = getComputedStyle(element);
            const header = getComputedStyle(document.querySelector('.site-header'));
            return {outline: own.outlineColor, width: own.outlineWidth, line: own.outlineStyle,
                    background: own.backgroundColor, header: header.backgroundColor};
        }"""
    )
    assert style["line"] == "solid" and float(style["width"].removesuffix("px")) >= 2
    ring = rgb(style["outline"])
    assert contrast(ring, rgb(style["header"])) >= 3
    assert contrast(ring, rgb(style["background"])) >= 3
    # In view, over the header: not off to the left as when it is not focused.
    box = link.bounding_box()
    header = page.locator(".site-header").bounding_box()
    assert box["x"] > 0 and header["y"] <= box["y"] < header["y"] + header["height"]
