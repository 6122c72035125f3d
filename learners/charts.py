"""Server-rendered SVG charts: no JavaScript, nothing fetched, readable without CSS.

Each chart is an image for assistive technologies (role="img" with a title and
a description); the page next to it carries the same figures as a data table.
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from courses.models import Level
from learners.queries import BlockState

ROW_HEIGHT = 26
BAR_HEIGHT = 14
LABEL_WIDTH = 64
BAR_WIDTH = 320
AXIS_HEIGHT = 22
# Colours meet 4.5:1 against white; the target is also drawn as a dashed line,
# so colour is never the only carrier of meaning.
REACHED_COLOUR = "#1b6b3a"
PARTIAL_COLOUR = "#1f4e99"
TRACK_COLOUR = "#e6e9ef"
TARGET_COLOUR = "#8a2d00"


def block_chart(state: BlockState, levels: list[Level], target_rank: int) -> SafeString:
    """A horizontal bar per competence: the level reached, against the framework's target."""
    max_rank = max((level.rank for level in levels), default=1) or 1
    chart_id = f"competence-chart-{state.block.pk}"
    height = AXIS_HEIGHT + ROW_HEIGHT * len(state.competences) + 4
    width = LABEL_WIDTH + BAR_WIDTH + 8

    def x_for(rank: int) -> float:
        return LABEL_WIDTH + BAR_WIDTH * rank / max_rank

    ticks = format_html_join(
        "",
        '<text x="{}" y="14" font-size="11" text-anchor="middle" fill="#333">{}</text>',
        ((round(x_for(level.rank), 1), level.rank) for level in levels),
    )
    rows = format_html_join(
        "",
        '<g><text x="0" y="{}" font-size="12" fill="#111">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/></g>',
        (
            (
                AXIS_HEIGHT + i * ROW_HEIGHT + BAR_HEIGHT - 2,
                row.competence.code,
                LABEL_WIDTH,
                AXIS_HEIGHT + i * ROW_HEIGHT,
                BAR_WIDTH,
                BAR_HEIGHT,
                TRACK_COLOUR,
                LABEL_WIDTH,
                AXIS_HEIGHT + i * ROW_HEIGHT,
                round(BAR_WIDTH * row.rank / max_rank, 1),
                BAR_HEIGHT,
                REACHED_COLOUR if row.reached else PARTIAL_COLOUR,
            )
            for i, row in enumerate(state.competences)
        ),
    )
    target_x = round(x_for(min(target_rank, max_rank)), 1)
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" class="competence-chart" '
        'aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" width="100%" '
        'style="max-width:{w}px" data-testid="competence-chart" data-block="{code}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        "{ticks}{rows}"
        '<line x1="{tx}" y1="{axis}" x2="{tx}" y2="{h}" stroke="{tc}" stroke-width="2" '
        'stroke-dasharray="4 3"/></svg>',
        id=chart_id,
        w=width,
        h=height,
        code=state.block.code,
        title=_("Block %(code)s — %(title)s")
        % {"code": state.block.code, "title": state.block.title},
        desc=describe(state, levels, target_rank),
        ticks=ticks,
        rows=rows,
        tx=target_x,
        axis=AXIS_HEIGHT - 4,
        tc=TARGET_COLOUR,
    )


def describe(state: BlockState, levels: list[Level], target_rank: int) -> str:
    """The chart's text alternative: the summary a sighted reader gets at a glance."""
    target = next((level.label for level in levels if level.rank == target_rank), str(target_rank))
    summary = ngettext(
        "%(reached)s of %(total)s competence at the target level (%(target)s).",
        "%(reached)s of %(total)s competences at the target level (%(target)s).",
        len(state.competences),
    ) % {"reached": state.reached_count, "total": len(state.competences), "target": target}
    no_evidence = _("no evidence yet")
    details = "; ".join(
        f"{row.competence.code}: {row.level.label if row.level else no_evidence}"
        for row in state.competences
    )
    status = _("Block validated.") if state.validated else _("Block not validated yet.")
    return f"{summary} {status} {details}."
