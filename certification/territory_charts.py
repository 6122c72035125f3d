"""Server-rendered SVG charts of the territory dashboard: no JavaScript, nothing fetched.

Each chart is a figure whose visible caption names it, to everyone: the image
inside (role="img") takes its name from that caption and its description from the
figures; the page carries the same figures in a table next to it.
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

BAR_COLOUR = "#1f4e99"  # 4.5:1 against white
TEXT_COLOUR = "#111"
ROW_HEIGHT = 22
BAR_HEIGHT = 14
LABEL_WIDTH = 200
BAR_WIDTH = 320
VALUE_WIDTH = 48


def bar_chart(rows: list[tuple[str, int]], *, title: str, key: str) -> SafeString:
    """One horizontal bar per row (a région, say), its value written at its end."""
    top = max((value for _, value in rows), default=0) or 1
    height = ROW_HEIGHT * len(rows) + 6
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    bars = format_html_join(
        "",
        '<g><text x="0" y="{}" font-size="12" fill="{}">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
        '<text x="{}" y="{}" font-size="12" fill="{}">{}</text></g>',
        (
            (
                i * ROW_HEIGHT + BAR_HEIGHT,
                TEXT_COLOUR,
                label,
                LABEL_WIDTH,
                i * ROW_HEIGHT + 3,
                round(BAR_WIDTH * value / top, 1),
                BAR_HEIGHT,
                BAR_COLOUR,
                LABEL_WIDTH + round(BAR_WIDTH * value / top, 1) + 4,
                i * ROW_HEIGHT + BAR_HEIGHT,
                TEXT_COLOUR,
                value,
            )
            for i, (label, value) in enumerate(rows)
        ),
    )
    return _svg(key, title, _describe(rows), width, height, bars)


def column_chart(rows: list[tuple[str, int]], *, title: str, key: str) -> SafeString:
    """One column per row (a month, say), its value above it."""
    top = max((value for _, value in rows), default=0) or 1
    column, gap, plot, axis = 30, 10, 120, 34
    width = len(rows) * (column + gap) + gap
    height = plot + axis + 16
    columns = format_html_join(
        "",
        '<g><rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
        '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="{}">{}</text>'
        '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="{}">{}</text></g>',
        (
            (
                gap + i * (column + gap),
                16 + plot - round(plot * value / top, 1),
                column,
                round(plot * value / top, 1),
                BAR_COLOUR,
                gap + i * (column + gap) + column / 2,
                12 + plot - round(plot * value / top, 1),
                TEXT_COLOUR,
                value,
                gap + i * (column + gap) + column / 2,
                16 + plot + 16,
                TEXT_COLOUR,
                label,
            )
            for i, (label, value) in enumerate(rows)
        ),
    )
    return _svg(key, title, _describe(rows), width, height, columns)


def _describe(rows: list[tuple[str, int]]) -> str:
    return "; ".join(f"{label}: {value}" for label, value in rows) + "."


def _svg(key: str, title: str, description: str, width: int, height: int, body) -> SafeString:
    # The SVG's <title> alone showed nowhere on the page (only as a tooltip): the caption
    # is the visible title, and the image is named by it rather than by a hidden copy.
    return format_html(
        '<figure class="territory-figure" aria-labelledby="{key}-caption" '
        'data-testid="territory-figure">'
        '<figcaption id="{key}-caption">{title}</figcaption>'
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" class="territory-chart" '
        'aria-labelledby="{key}-caption" aria-describedby="{key}-desc" '
        'viewBox="0 0 {w} {h}" width="100%" '
        'style="max-width:{w}px" data-testid="territory-chart" data-chart="{key}">'
        '<title>{title}</title><desc id="{key}-desc">{desc}</desc>{body}</svg></figure>',
        key=key,
        w=width,
        h=height,
        title=title,
        desc=description,
        body=body,
    )
