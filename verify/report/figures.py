"""Shared matplotlib helpers for the report's figures (Agg, no pyplot, no display needed).

Every helper draws with the object-oriented API (``matplotlib.figure.Figure`` on an Agg canvas), so
nothing touches pyplot's global state or needs a display, and figures can be made from threads or
pytest workers. Numbers come from the objective itself, evaluated in float64 on a grid — figures are
illustrations; the claims of a certificate are decided elsewhere.

Grids — evaluate a 2-D objective (anything with ``value/grad`` in the float64 context, e.g.
``zoo.get("appendix_d").objective``) on a box::

    X, Y = grid(box=((-4, 4), (-4, 4)), n=201)
    F    = f_grid(obj, X, Y)                 # f
    FS   = f_sam_grid(obj, X, Y, rho)        # f_SAM(x) = f(x + rho grad f / ||grad f||); nan where grad f = 0
    U, V = shifted_gradient_grid(obj, X, Y, rho)   # the field grad f(x+) (components)

Axes-level painters (draw on an ``ax`` you own)::

    contour(ax, X, Y, Z, title=..., levels=30)      # filled contours + colorbar-free lines
    quiver_field(ax, X, Y, U, V, negate=True)       # arrows of -grad f(x+) (the SAM step direction)
    mark_points(ax, points, label="hallucinated", marker="*", color="red")   # points: (k, 2) array
    trajectories(ax, paths, labels=None)            # paths: list of (T, 2) arrays, start/end marked
    curve(ax, points, label="minimizer set")        # a traced manifold, (k, 2) array

Figure-level one-liners (return the file *name* written into ``figdir``, ready for
``cert.figures.append(...)``)::

    name = landscape_figure(obj, rho, figdir / "appendix_d.png", box=..., marks={...}, trajs={...})
    #   three panels: f | f_SAM | field -grad f(x+) (the analogue of the paper's Figure 1)
    name = field_sweep_figure(obj, [0.5, 1.5, 2.8], figdir / "sweep.png", box=...)
    #   one field panel per rho (the analogue of Figures 10/11)
    name = trajectory_figure(obj, rho, figdir / "runs.png", {"SAM": xs_sam, "switching": xs_sw}, box=...)
    #   f_SAM contours with the paths (start o, end x) | f(x_k) along each path (the SAM/switching runs)
    name = series_figure({"GradRatio": (rhos, values)}, figdir / "rho_sweep.png", xlabel="rho", logy=True)
    name = surface_figure(X, Y, Z, figdir / "plane.png", title=...)   # one contour panel (e.g. a loss plane)

For free-form layouts: ``fig, axes = new_figure(ncols, nrows)`` then ``save(fig, path)`` (colour bars
by :func:`add_colorbar`). Every figure goes through :func:`save`, which sets its margins from its shape
(:func:`fix_margins`: no layout engine, one draw), checks it for a reader (:func:`figure_problems`:
every panel's axes and every colour bar labelled, every labelled artist in a legend whose entries
stand out from its background, no title overlapping another title or a panel, no label or legend
leaving the figure or running into another panel — a figure whose labels the margins do not fit
is drawn again with constrained layout) and records the file, its problems, its layout and the
seconds it took in :data:`LOG` (the report prints them with ``--profile``; ``tests/test_figures.py``
asserts that no figure of the report has a problem).
``marks`` maps a legend label to a (k, 2) array or to a dict of ``mark_points`` keyword arguments with
key ``points``; ``trajs`` maps a label to a (T, 2) array.
"""
from __future__ import annotations

import math
import pathlib
import time
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..core.sam import perturbed_points_batch

DPI = 90  # enough for a 1400 px page; savefig time grows with the pixel count
PANEL = (4.6, 4.0)  # inches per panel
PNG_OPTIONS = {"compress_level": 1}  # lossless; PNGs ~5% larger than at zlib 6, written faster
MARK_STYLES = [  # cycled for marks given without a style
    dict(marker="*", color="#d62728", s=140),
    dict(marker="o", color="#1f77b4", s=50),
    dict(marker="X", color="#2ca02c", s=70),
    dict(marker="D", color="#9467bd", s=45),
    dict(marker="^", color="#ff7f0e", s=60),
]
TRAJ_COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"]


# -- figures -----------------------------------------------------------------------------------------
def new_figure(ncols: int = 1, nrows: int = 1, panel: tuple[float, float] = PANEL,
               squeeze: bool = False):
    """A Figure on an Agg canvas with an ``nrows x ncols`` array of axes (2-D unless squeeze).
    No layout engine: :func:`save` sets the margins from the figure's shape (:func:`fix_margins`)."""
    fig = Figure(figsize=(panel[0] * ncols, panel[1] * nrows), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=squeeze)
    return fig, axes


# -- margins -----------------------------------------------------------------------------------------
# Constrained layout measured every tick label twice more and drew each figure once more before
# saving it (about a third of the report's figure time). The report's figures are rows of panels,
# with or without colour bars and with titles and labels of known lines, so the margins are set in
# inches from that shape; ``layout_problems`` (run on every saved figure) reports any text that
# leaves the figure or runs into another panel.
TICK_LABELS_IN = (0.5, 0.22)  # room for tick labels left of / below a panel (7 characters at 10 pt)
LOG_TICK_LABELS_IN = 0.75  # left of a log-scaled y axis (minor labels such as 4 x 10^-1)
COLORBAR_IN = 1.15  # a colour bar (an inset 0.04-0.09 of the panel's width), its tick labels and label
PAD_IN = 0.1


def _lines_in(text) -> float:
    """Height in inches of a text object's lines (0 when empty)."""
    s = text.get_text()
    return 0.0 if not s else (s.count("\n") + 1) * text.get_size() * 1.3 / 72


def _x_tick_labels_in(ax) -> float:
    """Room below a panel for its x tick labels: one line, or the drop of rotated labels (their
    characters at about 0.6 of the font size wide)."""
    labels = [t for t in ax.xaxis.get_ticklabels() if t.get_text() and t.get_rotation() % 180]
    if not labels:
        return TICK_LABELS_IN[1]
    return max(len(t.get_text()) * 0.6 * t.get_size() / 72 * abs(math.sin(math.radians(t.get_rotation())))
               + t.get_size() * 1.3 / 72 for t in labels)


def fix_margins(fig: Figure, shared_colorbar: bool = False) -> None:
    """Set the subplot margins and gaps of ``fig`` (panels from :func:`new_figure`) in inches from
    its titles, axis labels, suptitle and colour bars. Called by :func:`save` unless the figure was
    fixed already: a colour bar shared by several panels takes its room from where the panels
    stand when it is made, so call ``fix_margins(fig, shared_colorbar=True)`` before it."""
    if getattr(fig, "_margins_fixed", False):
        return
    fig._margins_fixed = True
    panels = [ax for ax in fig.axes if not _is_colorbar(ax) and ax.get_subplotspec() is not None]
    axes = _all_axes(fig)
    if not panels:
        return
    nrows, ncols = panels[0].get_subplotspec().get_gridspec().get_geometry()
    bar = COLORBAR_IN if any(_is_colorbar(ax) for ax in axes) else 0.0
    right = COLORBAR_IN if shared_colorbar else max(bar, 0.15)
    title = max(_lines_in(t) for ax in panels for t in (ax.title, ax._left_title, ax._right_title))
    top = max(title, 0.12) + PAD_IN
    bottom = max(map(_x_tick_labels_in, panels)) + max(_lines_in(ax.xaxis.label) for ax in panels) + PAD_IN
    ticks = LOG_TICK_LABELS_IN if any(ax.get_yscale() == "log" for ax in panels) else TICK_LABELS_IN[0]
    left = ticks + max(_lines_in(ax.yaxis.label) for ax in panels) + PAD_IN
    sup = _lines_in(fig._suptitle) + PAD_IN if fig._suptitle is not None else 0.0
    W, H = fig.get_size_inches()
    hgap, vgap = left + bar + PAD_IN, bottom + top
    w = (W - left - right - (ncols - 1) * hgap) / ncols
    h = (H - bottom - top - sup - (nrows - 1) * vgap) / nrows
    fig.subplots_adjust(left=left / W, right=1 - right / W, bottom=bottom / H, top=1 - (top + sup) / H,
                        wspace=hgap / w, hspace=vgap / h)


LOG: list[dict] = []  # one entry per saved figure: {"file", "seconds", "problems", "layout"}
STRICT = False  # True: save() raises on a figure problem (tests set it)


class FigureProblem(AssertionError):
    """A figure a reader could not read: an unlabelled axis or colour bar, a missing legend, ..."""


def save(fig: Figure, path: str | pathlib.Path, started: float | None = None) -> str:
    """Write ``fig`` as PNG to ``path`` (folders created), check it (:func:`figure_problems`),
    record file, problems and seconds in :data:`LOG` (from ``started``, a ``time.perf_counter()``
    value, when the caller timed its drawing too) and return the file name."""
    t0 = time.perf_counter() if started is None else started
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fix_margins(fig)
    fig.savefig(path, dpi=DPI, format="png", pil_kwargs=PNG_OPTIONS)
    layout, crowded = "fixed margins", layout_problems(fig)
    if crowded:  # the margins did not fit this figure's labels: constrained layout places them
        fig.set_layout_engine("constrained")
        fig.savefig(path, dpi=DPI, format="png", pil_kwargs=PNG_OPTIONS)
        layout, crowded = "constrained", layout_problems(fig)
    problems = _content_problems(fig) + crowded
    LOG.append({"file": path.name, "seconds": time.perf_counter() - t0, "problems": problems,
                "layout": layout})
    if problems and STRICT:
        raise FigureProblem(f"{path.name}: " + "; ".join(problems))
    return path.name


def drain_log() -> list[dict]:
    """The figures saved since the last call (and forget them)."""
    out = list(LOG)
    LOG.clear()
    return out


def _all_axes(fig: Figure) -> list:
    """The figure's axes and their inset axes (colour bars from :func:`colorbar` are insets)."""
    return [a for ax in fig.axes for a in (ax, *ax.child_axes)]


def add_colorbar(ax, mappable, label: str, shrink: float = 0.85):
    """A colour bar right of ``ax``, ``shrink`` times the panel's height: an inset of the panel,
    so it follows the panel when an equal aspect shrinks it (:func:`fix_margins` leaves it room).
    Labelled ticks only: the colour bands show the levels between them."""
    cax = ax.inset_axes([1.04, (1 - shrink) / 2, 0.05, shrink])
    bar = ax.figure.colorbar(mappable, cax=cax, label=label)
    bar.minorticks_off()  # a tick at every contour level cost a fifth of a contour figure's drawing
    return bar


def _is_colorbar(ax) -> bool:
    return getattr(ax, "_colorbar", None) is not None


def _has_data(ax) -> bool:
    return bool(ax.lines or ax.collections or ax.images or ax.patches or ax.containers)


def _luminance(color) -> float:
    from matplotlib.colors import to_rgba
    r, g, b, _ = to_rgba(color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _legend_problems(ax, legend) -> list[str]:
    out = []
    frame = legend.get_frame()
    bg = _luminance(frame.get_facecolor()) if legend.get_frame_on() else 1.0
    for handle, text in zip(legend.legend_handles, legend.get_texts()):
        if handle is None:
            continue
        colors = []
        if hasattr(handle, "get_linestyle") and hasattr(handle, "get_color") and hasattr(handle, "get_marker"):
            if handle.get_linestyle() in ("None", "none", "", " ") and handle.get_marker() in ("None", "none", "", " ", None):
                out.append(f"legend entry {text.get_text()!r} draws nothing")
                continue
            colors = [handle.get_color()]
        elif hasattr(handle, "get_facecolor"):
            fc = handle.get_facecolor()
            colors = [fc[0] if hasattr(fc, "__len__") and len(fc) and hasattr(fc[0], "__len__") else fc]
        outlined = bool(getattr(handle, "get_path_effects", lambda: [])())
        if colors and not outlined and all(abs(_luminance(c) - bg) < 0.12 for c in colors):
            out.append(f"legend entry {text.get_text()!r} has the colour of the legend background")
    return out


def figure_problems(fig: Figure) -> list[str]:
    """What keeps a reader from reading ``fig``: panels with data but no x or y label, colour bars
    without a label, labelled artists with no legend, legend entries invisible on their background,
    titles overlapping each other or a panel, labels crowded out (:func:`layout_problems`, with the
    margins :func:`save` gives it). Empty when the figure is fine."""
    fix_margins(fig)
    return _content_problems(fig) + layout_problems(fig)


def _content_problems(fig: Figure) -> list[str]:
    problems = []
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    in_legend = {t.get_text() for lg in legends for t in lg.get_texts()}
    renderer = fig.canvas.get_renderer()
    boxes = []
    for i, ax in enumerate(_all_axes(fig)):
        if not ax.get_visible():
            continue
        name = ax.get_title() or f"panel {i + 1}"
        if _is_colorbar(ax):
            if not (ax.get_ylabel() or ax.get_xlabel()):
                problems.append(f"colour bar next to {name!r} has no label")
            continue
        if ax.axison and _has_data(ax):
            if not ax.get_xlabel():
                problems.append(f"{name!r}: x axis has no label")
            if not ax.get_ylabel():
                problems.append(f"{name!r}: y axis has no label")
        missing = [lab for lab in ax.get_legend_handles_labels()[1]
                   if lab and not lab.startswith("_") and lab not in in_legend]
        if missing:
            problems.append(f"{name!r}: labelled curves or marks ({', '.join(missing[:3])}) in no legend")
        legend = ax.get_legend()
        if legend is not None:
            problems += [f"{name!r}: {p}" for p in _legend_problems(ax, legend)]
        boxes.append((name, ax.get_window_extent(renderer)))
    titles = [(t.get_text(), t.get_window_extent(renderer)) for ax in _all_axes(fig) if ax.get_visible()
              for t in (ax.title, ax._left_title, ax._right_title) if t.get_text()]
    if fig._suptitle is not None and fig._suptitle.get_text():
        titles.append((fig._suptitle.get_text(), fig._suptitle.get_window_extent(renderer)))
    for k, (text, box) in enumerate(titles):
        for other, obox in titles[k + 1:]:
            if box.overlaps(obox):
                problems.append(f"titles {text!r} and {other!r} overlap")
        for name, abox in boxes:
            if box.overlaps(abox) and box.y0 < abox.y1 - 2:
                problems.append(f"title {text!r} overlaps the panel {name!r}")
    return problems


def _overlap(a, b, px: float = 1.0) -> bool:
    """The boxes share more than a ``px``-wide strip (touching edges do not count)."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > px and min(a.y1, b.y1) - max(a.y0, b.y0) > px


def layout_problems(fig: Figure) -> list[str]:
    """Texts the margins left unreadable: tick labels, axis labels, titles or legends that leave the
    figure, run into another panel's frame (a colour bar's included), or into another panel's
    labels (titles against titles are :func:`figure_problems`' check)."""
    renderer = fig.canvas.get_renderer()
    axes = [ax for ax in _all_axes(fig) if ax.get_visible()]
    names = [("colour bar" if _is_colorbar(ax) else (ax.get_title() or f"panel {i + 1}"))
             for i, ax in enumerate(axes)]
    for ax in axes:  # where a draw puts them: equal aspect, then the insets that follow a panel
        locator = ax.get_axes_locator()
        ax.apply_aspect(locator(ax, renderer) if locator else None)
    texts = []  # (owner, what, box, is_title)
    for i, ax in enumerate(axes):
        for what, axis in (("x tick labels", ax.xaxis), ("y tick labels", ax.yaxis)):
            box = axis.get_tightbbox(renderer) if axis.get_visible() else None
            if box is not None and box.width > 0 and box.height > 0:
                texts.append((i, what, box, False))
        texts += [(i, "title", t.get_window_extent(renderer), True)
                  for t in (ax.title, ax._left_title, ax._right_title) if t.get_text()]
        if ax.get_legend() is not None:
            texts.append((i, "legend", ax.get_legend().get_window_extent(renderer), False))
    frames = [ax.get_window_extent(renderer) for ax in axes]
    problems = []
    W, H = fig.bbox.width, fig.bbox.height
    for k, (i, what, box, is_title) in enumerate(texts):
        if box.x0 < -1 or box.y0 < -1 or box.x1 > W + 1 or box.y1 > H + 1:
            problems.append(f"{names[i]!r}: {what} run off the figure")
        problems += [f"{names[i]!r}: {what} run into the frame of {names[j]!r}"
                     for j, frame in enumerate(frames) if j != i and _overlap(box, frame)]
        problems += [f"{names[i]!r}: {what} overlap the {w2} of {names[j]!r}"
                     for j, w2, b2, t2 in texts[k + 1:]
                     if j != i and not (is_title and t2) and _overlap(box, b2)]
    return problems


# -- grids -------------------------------------------------------------------------------------------
def _float_ctx():
    from ..ctx import get_context
    return get_context("float64")


def grid(box: Sequence[Sequence[float]] = ((-3, 3), (-3, 3)), n: int = 161):
    """Meshgrid ``X, Y`` (shape n x n) over ``box = ((x0, x1), (y0, y1))``."""
    (x0, x1), (y0, y1) = box
    return np.meshgrid(np.linspace(float(x0), float(x1), n), np.linspace(float(y0), float(y1), n))


def _vectorized(fn, X, Y, ncomp: int | None):
    """Evaluate ``fn(P, ctx)`` on the stacked grid; fall back to point by point if the objective
    does not broadcast (e.g. a constant component)."""
    ctx = _float_ctx()
    P = np.stack([X, Y])
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(fn(P, ctx), dtype=float)
        want = X.shape if ncomp is None else (ncomp,) + X.shape
        if out.shape == want:
            return out
    except Exception:  # noqa: BLE001 - any failure: fall back to the loop below
        pass
    flat = []
    for x, y in zip(X.ravel(), Y.ravel()):
        try:
            with np.errstate(all="ignore"):
                flat.append(np.asarray(fn(np.array([x, y]), ctx), dtype=float))
        except Exception:  # noqa: BLE001 - undefined there (e.g. zero gradient): blank
            flat.append(np.full(() if ncomp is None else (ncomp,), np.nan))
    out = np.array(flat)
    return out.reshape(X.shape) if ncomp is None else np.moveaxis(out, -1, 0).reshape((ncomp,) + X.shape)


def f_grid(obj, X, Y):
    """f on the grid."""
    return _vectorized(obj.value, X, Y, None)


def grad_grid(obj, X, Y):
    """grad f on the grid, shape (2, n, n)."""
    return _vectorized(obj.grad, X, Y, 2)


def perturbed_grid(obj, X, Y, rho: float):
    """x+ = x + rho grad f / ||grad f|| on the grid, as (Xp, Yp); nan where grad f = 0."""
    G = grad_grid(obj, X, Y)
    Pp = perturbed_points_batch(np.stack([X, Y], axis=-1), np.moveaxis(G, 0, -1), rho, undefined=np.nan)
    return Pp[..., 0], Pp[..., 1]


def f_sam_grid(obj, X, Y, rho: float):
    """f_SAM(x) = f(x+) on the grid (nan where grad f = 0)."""
    Xp, Yp = perturbed_grid(obj, X, Y, rho)
    ok = np.isfinite(Xp) & np.isfinite(Yp)
    Z = f_grid(obj, np.where(ok, Xp, 0.0), np.where(ok, Yp, 0.0))
    return np.where(ok, Z, np.nan)


def shifted_gradient_grid(obj, X, Y, rho: float):
    """The field grad f(x+) on the grid, as (U, V); nan where grad f = 0."""
    Xp, Yp = perturbed_grid(obj, X, Y, rho)
    ok = np.isfinite(Xp) & np.isfinite(Yp)
    G = grad_grid(obj, np.where(ok, Xp, 0.0), np.where(ok, Yp, 0.0))
    return np.where(ok, G[0], np.nan), np.where(ok, G[1], np.nan)


# -- painters ----------------------------------------------------------------------------------------
def robust_levels(Z, levels: int = 30, percentiles: tuple[float, float] = (1.0, 99.0)):
    """``levels`` contour levels at evenly spaced quantiles of the finite values of Z between the
    given percentiles, so that steep corners of the box do not flatten the rest of the picture
    (each colour band covers a similar area); values outside are drawn in the end colours."""
    finite = np.asarray(Z, float)[np.isfinite(Z)]
    if finite.size == 0:
        return levels
    qs = np.unique(np.quantile(finite, np.linspace(percentiles[0], percentiles[1], int(levels)) / 100))
    return qs if qs.size >= 3 else levels


def label_axes(ax, xlabel: str = "x1", ylabel: str = "x2") -> None:
    """Name the axes unless the caller already did (every panel of the report is labelled)."""
    if not ax.get_xlabel():
        ax.set_xlabel(xlabel)
    if not ax.get_ylabel():
        ax.set_ylabel(ylabel)


def contour(ax, X, Y, Z, title: str = "", levels: int | Sequence[float] = 30, cmap: str = "viridis",
            colorbar: bool = True, lines: bool = True, alpha: float = 1.0, label: str | None = None,
            robust: bool = True):
    """Filled contour plot of Z (nan blank) with thin contour lines and an optional colour bar
    labelled ``label`` (default: the title). ``robust`` spreads integer ``levels`` between the 1st
    and 99th percentiles of Z. Contours are rasterized (vector output stays small and fast)."""
    Zm = np.ma.masked_invalid(Z)
    if robust and isinstance(levels, (int, np.integer)):
        levels = robust_levels(Zm.filled(np.nan), levels)
    norm, extend = None, "neither"
    if robust and not isinstance(levels, (int, np.integer)):  # one colour per band, bands by quantile
        from matplotlib import colormaps
        from matplotlib.colors import BoundaryNorm
        extend = "both"
        norm = BoundaryNorm(levels, colormaps[cmap].N, extend=extend)
    cs = ax.contourf(X, Y, Zm, levels=levels, cmap=cmap, alpha=alpha, extend=extend, norm=norm)
    cs.set_rasterized(True)
    if lines:
        ax.contour(X, Y, Zm, levels=cs.levels, colors="k", linewidths=0.25, alpha=0.5).set_rasterized(True)
    if colorbar:
        add_colorbar(ax, cs, label=label or title or "value")
    label_axes(ax)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlim(X.min(), X.max())
    ax.set_ylim(Y.min(), Y.max())
    if title:
        ax.set_title(title, fontsize=10)
    return cs


def quiver_field(ax, X, Y, U, V, negate: bool = True, normalize: bool = True, every: int = 1,
                 color_by_norm: bool = True, title: str = "", colorbar: bool = True,
                 clim: tuple[float, float] | None = None):
    """Arrows of the field (U, V) — by default of ``-(U, V)``, the direction a SAM step moves when
    (U, V) = grad f(x+). ``normalize`` draws unit arrows colored by log10 of the field's norm
    (at most 8 decades, or the fixed range ``clim``, e.g. to share one colorbar between panels)."""
    s = (slice(None, None, every), slice(None, None, every))
    X, Y, U, V = X[s], Y[s], U[s], V[s]
    sign = -1.0 if negate else 1.0
    with np.errstate(all="ignore"):
        N = np.hypot(U, V)
        if normalize:
            U, V = np.where(N > 0, U / N, 0.0), np.where(N > 0, V / N, 0.0)
    args = (X, Y, sign * U, sign * V)
    if color_by_norm:
        with np.errstate(all="ignore"):
            C = np.log10(np.where(N > 0, N, np.nan))
        if clim is not None:
            C = np.clip(C, *clim)
        elif np.isfinite(C).any():  # show at most 8 decades: tiny norms all read as "near zero"
            C = np.maximum(C, np.nanmax(C) - 8)
        q = ax.quiver(*args, np.ma.masked_invalid(C), cmap="plasma", **_quiver_scale(X, normalize))
        if clim is not None:
            q.set_clim(*clim)
        if colorbar:
            add_colorbar(ax, q, label="log10 ||field||")
    else:
        q = ax.quiver(*args, **_quiver_scale(X, normalize))
    label_axes(ax)
    ax.set_aspect("equal", adjustable="box")
    if title:
        ax.set_title(title, fontsize=10)
    return q


def _quiver_scale(X, normalize: bool) -> dict:
    kw = dict(angles="xy", pivot="mid", width=0.004)
    if normalize and X.ndim == 2 and X.shape[1] > 1:  # unit arrows a little shorter than the spacing
        kw.update(scale_units="xy", scale=1.25 / abs(X[0, 1] - X[0, 0]))
    return kw


def mark_points(ax, points, label: str | None = None, marker: str = "*", color: str = "#d62728",
                s: float = 120, **kw):
    """Scatter a (k, 2) array of points (a single point may be given as a length-2 sequence)."""
    P = np.atleast_2d(np.asarray(points, dtype=float))
    if P.size == 0:
        return None
    return ax.scatter(P[:, 0], P[:, 1], marker=marker, c=color, s=s, label=label, zorder=5,
                      edgecolors="white", linewidths=0.6, **kw)


def curve(ax, points, label: str | None = None, color: str = "white", lw: float = 2.0, ls: str = "--",
          **kw):
    """A traced curve (e.g. a manifold of minimizers) given as a (k, 2) array, outlined in black so
    that it shows on dark contours and on the white legend alike."""
    from matplotlib import patheffects
    P = np.atleast_2d(np.asarray(points, dtype=float))
    outline = [patheffects.Stroke(linewidth=lw + 1.6, foreground="black"), patheffects.Normal()]
    return ax.plot(P[:, 0], P[:, 1], color=color, lw=lw, ls=ls, label=label, zorder=4,
                   path_effects=outline, **kw)


def trajectories(ax, paths: Iterable, labels: Sequence[str] | None = None,
                 colors: Sequence[str] | None = None, lw: float = 1.4):
    """Overlay trajectories, each a (T, 2) array: a line with its start (o) and end (x) marked."""
    paths = [np.atleast_2d(np.asarray(p, dtype=float)) for p in paths]
    colors = list(colors or TRAJ_COLORS)
    for i, P in enumerate(paths):
        c = colors[i % len(colors)]
        lab = labels[i] if labels and i < len(labels) else None
        ax.plot(P[:, 0], P[:, 1], "-", color=c, lw=lw, label=lab, zorder=6)
        ax.plot(P[0, 0], P[0, 1], "o", color=c, ms=5, zorder=7)
        ax.plot(P[-1, 0], P[-1, 1], "x", color=c, ms=8, mew=2, zorder=7)


def draw_marks(ax, marks: Mapping[str, Any] | None):
    for i, (label, spec) in enumerate((marks or {}).items()):
        style = dict(MARK_STYLES[i % len(MARK_STYLES)])
        if isinstance(spec, Mapping):
            spec = dict(spec)
            pts = spec.pop("points")
            style.update(spec)
        else:
            pts = spec
        mark_points(ax, pts, label=label, **style)


def draw_legend(ax):
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc="lower left", fontsize=7, framealpha=0.9)


# -- figure-level one-liners -------------------------------------------------------------------------
def landscape_figure(obj, rho: float, path: str | pathlib.Path, box=((-3, 3), (-3, 3)), n: int = 161,
                     marks: Mapping[str, Any] | None = None, trajs: Mapping[str, Any] | None = None,
                     curves: Mapping[str, Any] | None = None, field: bool = True, field_n: int = 25,
                     levels: int = 30, suptitle: str = "") -> str:
    """Panels f | f_SAM | -grad f(x+) for a 2-D objective; marks/trajectories/curves on every panel.
    Returns the file name written."""
    X, Y = grid(box, n)
    F, FS = f_grid(obj, X, Y), f_sam_grid(obj, X, Y, rho)
    fig, axes = new_figure(3 if field else 2, 1)
    axes = axes[0]
    contour(axes[0], X, Y, F, title="f", levels=levels)
    contour(axes[1], X, Y, FS, title=f"f_SAM, rho = {rho:g}", levels=levels)
    if field:
        Xq, Yq = grid(box, field_n)
        U, V = shifted_gradient_grid(obj, Xq, Yq, rho)
        quiver_field(axes[2], Xq, Yq, U, V, title=f"-grad f(x+), rho = {rho:g}")
        axes[2].set_xlim(X.min(), X.max())
        axes[2].set_ylim(Y.min(), Y.max())
    for ax in axes:
        for label, pts in (curves or {}).items():
            curve(ax, pts, label=label)
        draw_marks(ax, marks)
        if trajs:
            trajectories(ax, list(trajs.values()), labels=list(trajs.keys()))
    draw_legend(axes[-1])
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    return save(fig, path)


def field_sweep_figure(obj, rhos: Sequence[float], path: str | pathlib.Path, box=((-3, 3), (-3, 3)),
                       n: int = 25, background: bool = True, marks_by_rho: Mapping[float, Any] | None = None,
                       ncols: int | None = None, suptitle: str = "") -> str:
    """One panel per rho: f_SAM contours (if ``background``) under arrows of -grad f(x+).
    ``marks_by_rho`` maps a rho to a ``marks`` dict for that panel. Returns the file name."""
    rhos = list(rhos)
    ncols = ncols or min(len(rhos), 3)
    nrows = -(-len(rhos) // ncols)
    fig, axes = new_figure(ncols, nrows)
    flat = axes.ravel()
    Xq, Yq = grid(box, n)
    fields = [shifted_gradient_grid(obj, Xq, Yq, rho) for rho in rhos]
    with np.errstate(all="ignore"):
        logs = np.concatenate([np.log10(np.hypot(U, V)).ravel() for U, V in fields])
    logs = logs[np.isfinite(logs)]
    top = float(logs.max()) if logs.size else 0.0
    clim = (max(float(logs.min()) if logs.size else top - 1, top - 8), top)
    q = None
    for ax, rho, (U, V) in zip(flat, rhos, fields):
        if background:
            Xb, Yb = grid(box, 121)
            contour(ax, Xb, Yb, f_sam_grid(obj, Xb, Yb, rho), levels=20, cmap="Greys_r", colorbar=False,
                    lines=False, alpha=0.45)
        q = quiver_field(ax, Xq, Yq, U, V, title=f"-grad f(x+), rho = {rho:g}", colorbar=False, clim=clim)
        ax.set_xlim(Xq.min(), Xq.max())
        ax.set_ylim(Yq.min(), Yq.max())
        if marks_by_rho and rho in marks_by_rho:
            draw_marks(ax, marks_by_rho[rho])
            draw_legend(ax)
    for ax in flat[len(rhos):]:
        ax.set_visible(False)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    if q is not None:
        fix_margins(fig, shared_colorbar=True)
        bar = fig.colorbar(q, ax=list(flat[:len(rhos)]), shrink=0.8, label="log10 ||grad f(x+)||")
        bar.minorticks_off()
    return save(fig, path)


def trajectory_figure(obj, rho: float, path: str | pathlib.Path, trajs: Mapping[str, Any],
                      box=((-3, 3), (-3, 3)), n: int = 161, background: str = "f_sam",
                      marks: Mapping[str, Any] | None = None, curves: Mapping[str, Any] | None = None,
                      values: bool = True, logy: bool = False, suptitle: str = "") -> str:
    """Trajectories (label -> (T, 2) array) over contours of f_SAM (``background="f_sam"``) or f
    (``"f"``), and, if ``values``, a second panel with f(x_k) along each trajectory."""
    X, Y = grid(box, n)
    Z = f_sam_grid(obj, X, Y, rho) if background == "f_sam" else f_grid(obj, X, Y)
    fig, axes = new_figure(2 if values else 1, 1)
    ax = axes[0, 0]
    contour(ax, X, Y, Z, title=(f"f_SAM, rho = {rho:g}" if background == "f_sam" else "f"), levels=30)
    for label, pts in (curves or {}).items():
        curve(ax, pts, label=label)
    draw_marks(ax, marks)
    trajectories(ax, list(trajs.values()), labels=list(trajs.keys()))
    draw_legend(ax)
    if values:
        axv = axes[0, 1]
        ctx = _float_ctx()
        for i, (label, P) in enumerate(trajs.items()):
            P = np.atleast_2d(np.asarray(P, dtype=float))
            fv = [float(obj.value(np.array(p), ctx)) for p in P]
            axv.plot(np.arange(len(fv)), fv, "-", color=TRAJ_COLORS[i % len(TRAJ_COLORS)], label=label)
        axv.set_xlabel("iteration k")
        axv.set_ylabel("f(x_k)")
        if logy:
            axv.set_yscale("log")
        axv.grid(True, alpha=0.3)
        axv.set_title("f along the trajectories", fontsize=10)
        axv.legend(fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    return save(fig, path)


def series_figure(series: Mapping[str, tuple], path: str | pathlib.Path, xlabel: str = "", ylabel: str = "",
                  logx: bool = False, logy: bool = False, title: str = "",
                  hlines: Mapping[str, float] | None = None, vlines: Mapping[str, float] | None = None) -> str:
    """A line chart: ``series`` maps a label to ``(xs, ys)``; optional labelled reference lines."""
    fig, axes = new_figure(1, 1, panel=(6.0, 4.0))
    ax = axes[0, 0]
    for label, (xs, ys) in series.items():
        ax.plot(np.asarray(xs, float), np.asarray(ys, float), "o-", ms=3.5, lw=1.4, label=label)
    for label, y in (hlines or {}).items():
        ax.axhline(float(y), ls=":", color="grey", lw=1)
        ax.annotate(label, (0.01, float(y)), xycoords=("axes fraction", "data"), fontsize=7,
                    color="grey", va="bottom")
    for label, x in (vlines or {}).items():
        ax.axvline(float(x), ls=":", color="grey", lw=1)
        ax.annotate(label, (float(x), 0.98), xycoords=("data", "axes fraction"), fontsize=7,
                    color="grey", ha="left", va="top", rotation=90)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    if series:
        ax.legend(fontsize=8)
    return save(fig, path)


def surface_figure(X, Y, Z, path: str | pathlib.Path, title: str = "", xlabel: str = "", ylabel: str = "",
                   marks: Mapping[str, Any] | None = None, levels: int = 30, equal: bool = False) -> str:
    """One filled-contour panel of precomputed values (e.g. a loss landscape plane)."""
    fig, axes = new_figure(1, 1, panel=(5.4, 4.4))
    ax = axes[0, 0]
    contour(ax, X, Y, Z, title=title, levels=levels)
    if not equal:
        ax.set_aspect("auto")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    draw_marks(ax, marks)
    draw_legend(ax)
    return save(fig, path)


def construction_figure(path, obj, box, *, x_star, x_h, x_plus=None, x_max=None, boundary=None,
                        set_points=None, ball=None, title: str = "") -> str:
    """2-D picture of the Section 2 construction: contours of f (levels at quantiles of f, so no
    corner dominates), the sampled boundary of C_eps, x_star, x_max (or the maximizer set), x_h and
    the arrow x_h -> x_h + rho u(x_h). Returns the file name written."""
    from ..geometry.superlevel import values
    started = time.perf_counter()
    (x0, x1), (y0, y1) = [(float(a), float(b)) for a, b in box]
    X, Y = np.meshgrid(np.linspace(x0, x1, 161), np.linspace(y0, y1, 161))
    Z = values(obj, np.stack([X.ravel(), Y.ravel()], axis=1)).reshape(X.shape)
    fig, axes = new_figure(1, 1, panel=(5.6, 4.8))
    ax = axes[0, 0]
    finite_z = Z[np.isfinite(Z)]
    levels = np.unique(np.quantile(finite_z, np.linspace(0.0, 1.0, 34)[1:-1])) if finite_z.size else 30
    cs = ax.contour(X, Y, Z, levels=levels, linewidths=0.5, cmap="viridis")
    cs.set_rasterized(True)
    add_colorbar(ax, cs, label="f (contour levels at quantiles)")
    if ball is not None:
        c, r = ball
        a = np.linspace(0, 2 * np.pi, 200)
        ax.plot(c[0] + r * np.cos(a), c[1] + r * np.sin(a), ":", color="gray", lw=1, label="ball C")
    if boundary is not None and len(boundary):
        B = np.asarray(boundary, float)
        ax.plot(B[:, 0], B[:, 1], ".", ms=1.2, color="tab:red", label=r"$\partial C_\varepsilon$")
    if set_points is not None:
        S = np.asarray(set_points, float)
        ax.plot(S[:, 0], S[:, 1], "-", color="black", lw=1, label=r"$X^\bullet$")
    ax.plot(*np.asarray(x_star, float), "*", ms=12, color="tab:blue", label=r"$x_\star$")
    if x_max is not None:
        ax.plot(*np.asarray(x_max, float), "^", ms=8, color="black", label=r"$x^\bullet$")
    ax.plot(*np.asarray(x_h, float), "o", ms=7, color="tab:orange", label=r"$x_h$")
    if x_plus is not None:
        a, b = np.asarray(x_h, float), np.asarray(x_plus, float)
        ax.annotate("", xy=b, xytext=a, arrowprops=dict(arrowstyle="->", color="tab:orange", lw=1.5))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    label_axes(ax)
    ax.legend(fontsize=7, loc="upper right", markerscale=1.5)
    ax.set_title(title, fontsize=9)
    return save(fig, path, started)


def ratio_field_figure(path, obj, box, rho: float, title: str = "") -> str:
    """Colour map of ||grad f(x + rho u(x))|| / ||grad f(x)|| over a 2-D box."""
    from ..geometry.superlevel import grads
    started = time.perf_counter()
    (x0, x1), (y0, y1) = [(float(a), float(b)) for a, b in box]
    X, Y = np.meshgrid(np.linspace(x0, x1, 161), np.linspace(y0, y1, 161))
    P = np.stack([X.ravel(), Y.ravel()], axis=1)
    G = grads(obj, P)
    n = np.linalg.norm(G, axis=1)
    with np.errstate(all="ignore"):
        Pp = perturbed_points_batch(P, G, rho, undefined=np.nan)
        R = np.linalg.norm(grads(obj, Pp), axis=1) / n
    fig, axes = new_figure(1, 1, panel=(5.4, 4.6))
    ax = axes[0, 0]
    im = ax.pcolormesh(X, Y, R.reshape(X.shape), shading="auto", cmap="magma", rasterized=True)
    add_colorbar(ax, im, label="ratio (>= 1 proved)", shrink=1.0)
    ax.set_aspect("equal")
    label_axes(ax)
    ax.set_title(title, fontsize=8)
    return save(fig, path, started)
