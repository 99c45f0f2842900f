"""Which rows of plots a model's column shows, and how high each is: the lecture's priorities
against the screen's height.

A plot is only worth showing when it is tall enough to read. Rather than squash six rows into
a projector's 800 lines, a column shows the rows a lecture needs first (the gradient profile
and the loss against its baseline, then the view the lecturer picked, then the rest) as far
as each gets its minimum data height; the others wait for a larger window or a pick.
Plain arithmetic, no Qt: the window measures, this decides.
"""

from __future__ import annotations

from dataclasses import dataclass

ROWS = ("loss", "gradient", "history", "gates", "gate_means", "diagnostics")  # top to bottom
EXTRA_VIEWS = ("history", "gates", "gate_means", "diagnostics")  # what the third plot can be
LECTURE_EXTRAS = ("history", "gates")  # what presentation mode offers as its third plot
WEIGHTS = {"loss": 3.0, "gradient": 4.0, "history": 3.0, "gates": 3.0, "gate_means": 2.0, "diagnostics": 2.0}
LECTURE_WEIGHTS = {"gradient": 6.0, "loss": 4.0, "history": 3.0, "gates": 3.0, "gate_means": 3.0, "diagnostics": 3.0}
DESK_MIN_PX = 105  # the shortest data area worth drawing at a desk
DIAGNOSTICS_MIN_WIDTH = 600  # three plots side by side: narrower and they are slivers
# Presentation puts its third plot beside the loss where the column is this wide: three rows
# of a lecture's height do not fit 800 or 1080 lines, two do.
SIDE_BY_SIDE_MIN_WIDTH = 600


@dataclass(frozen=True)
class Floors:
    """The smallest data heights (px) rows may have: ``main`` for the gradient profile and
    the loss, ``other`` for the rest."""

    main: float
    other: float


# Presentation floors (screen lines: px) for the gradient and loss plots, and for the third:
# the lecture's minimums at the projectors it meets, with 2 px to spare, in between by line.
LECTURE_LINES = (768, 800, 1080)
LECTURE_MAIN = (182, 202, 302)
LECTURE_OTHER = (102, 122, 152)


def floors(presentation: bool, screen_height: int) -> Floors:
    """On the projector the plots a lecture points at must read from the back: their floors
    grow with the screen; at a desk every plot gets 105 px."""
    if presentation:
        return Floors(main=_between(screen_height, LECTURE_MAIN), other=_between(screen_height, LECTURE_OTHER))
    return Floors(main=DESK_MIN_PX, other=DESK_MIN_PX)


def _between(lines: float, values: tuple[float, ...]) -> float:
    """``values`` at ``lines``, straight between the table's screens and beyond its ends."""
    points = list(zip(LECTURE_LINES, values, strict=True))
    if lines <= points[0][0]:
        return values[0] * lines / points[0][0]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if lines <= x1:
            return y0 + (y1 - y0) * (lines - x0) / (x1 - x0)
    return values[-1] * lines / points[-1][0]


def priority(extra: str, presentation: bool, width: float, featured: str | None = None) -> list[str]:
    """The rows in the order a lecture needs them; ``extra`` is the lecturer's pick. A third
    plot ``featured`` (the one a lesson's scene highlights) goes before the loss in
    presentation: at 1024x768 only two rows fit, and the scene speaks of that plot."""
    if presentation:
        third = extra if extra in LECTURE_EXTRAS else "history"
        return ["gradient", third, "loss"] if featured == third else ["gradient", "loss", third]
    order = ["loss", "gradient", extra] + [row for row in EXTRA_VIEWS if row != extra]
    if width < DIAGNOSTICS_MIN_WIDTH and extra != "diagnostics":
        order.remove("diagnostics")
    return order


def plan(available: float, overheads: dict[str, float], order: list[str], presentation: bool,
         floor: Floors, spacing: float) -> dict[str, float]:
    """Data-area heights for the longest prefix of ``order`` whose rows all reach their floor,
    top to bottom. ``overheads`` is each row's height beyond its data area (axes, key,
    caption). The first two rows are always shown, however short the window."""
    weights = LECTURE_WEIGHTS if presentation else WEIGHTS
    for count in range(len(order), 1, -1):
        rows = order[:count]
        minimum = {row: floor.main if row in ("gradient", "loss") else floor.other for row in rows}
        free = available - sum(overheads[row] for row in rows) - spacing * (count - 1) - sum(minimum.values())
        if free >= 0 or count == 2:
            total = sum(weights[row] for row in rows)
            heights = {row: max(0.0, minimum[row] + free * weights[row] / total) for row in rows}
            if free < 0:  # not even two fit: share what there is
                room = max(0.0, available - sum(overheads[row] for row in rows) - spacing)
                heights = {row: room * weights[row] / total for row in rows}
            return {row: heights[row] for row in ROWS if row in heights}
    return {}
