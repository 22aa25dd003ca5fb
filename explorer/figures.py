"""Plotly figure builders: arrays in, figures out, no Streamlit. Each checks its input and
says what is wrong with a ValueError, as umap's plot module does."""
from __future__ import annotations

import html
import json

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.map_layers import ClusterLabel, Contours

PALETTE = ("#e4572e", "#29335c", "#f3a712", "#669bbc", "#a8c686", "#8e5572", "#17bebb", "#ff8c42", "#6d6875",
           "#2a9d8f", "#e76f51", "#264653", "#b5838d", "#588157", "#9d4edd", "#f28482", "#3a86ff")
DOMAIN_COLOURS = {"all": "#29335c", "lego": "#f3a712", "emoji": "#e4572e"}
# The map's clickable background layer: GRID_POINTS x GRID_POINTS near-invisible markers, each
# reaching HOVER_REACH px (on a 1,300 px wide map they are 43 px apart, so a click anywhere lands
# on one). A finer grid costs the browser more time to draw than a click needs.
GRID_POINTS = 30
HOVER_REACH = 30
# The latent histograms' panels: 8 units of z wide and 1 high, placed this far apart (x, y)
PANEL_STEP = (9.0, 1.3)


def gaussian_density(x: np.ndarray) -> np.ndarray:
    """Standard normal density, overlaid on the latent histograms."""
    return np.exp(-0.5 * np.square(x)) / np.sqrt(2 * np.pi)


def _check_points(xy: np.ndarray, *columns) -> np.ndarray:
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"map points must have shape (N, 2), not {xy.shape}")
    if not np.all(np.isfinite(xy)):
        raise ValueError("map points must be finite")
    for column in columns:
        if len(column) != len(xy):
            raise ValueError(f"every per-point column needs {len(xy)} entries, one has {len(column)}")
    return xy


MAP_META = "legomoji-map"  # the map's layout.meta: the hover pictures (explorer.hover) find the map by it


def shareable(figure: go.Figure) -> str:
    """The figure as JSON, which many threads may read at once. Plotly's figures are not safe
    to share between threads, nor are the dicts they are built from: building a figure takes
    each trace's "type" out of its dict and puts it back, so a figure built at the same time
    from the same dict on another thread turns a contour into a scatter ("Invalid property
    ... 'colorscale'"). Caches that every session reads hold this, and each session draws its
    own figure (`own_figure`)."""
    return figure.to_json()


def own_figure(shared: str) -> go.Figure:
    """A figure of one's own, to change and to show, from a `shareable` JSON. It came from a
    validated figure, so it is not validated again: validation costs several times the copy."""
    return go.Figure(json.loads(shared), _validate=False)


def map_trace_members(groups: np.ndarray) -> list[np.ndarray]:
    """The dataset rows of each group's trace of the map, in trace order (trace k + 1 holds
    group k: trace 0 is the empty space); what a clicked point's trace and index name."""
    groups = np.asarray(groups)
    return [np.flatnonzero(groups == group) for group in sorted(set(groups), key=lambda g: (g == "untagged", g))]


def map_figure(xy: np.ndarray, groups: np.ndarray, hover: list[str], contours: dict[str, Contours] | None = None,
               labels: list[ClusterLabel] | None = None, axis_titles: tuple[str, str] | None = None) -> go.Figure:
    """Every point coloured by its group over a clickable grid of empty space; each point trace
    carries the points' row numbers as customdata, so a selection names the images. Optional
    layers: each domain's density `contours` (drawn after the points, so the points' trace
    numbers stay 1, 2, ...; they take no hover or click), cluster `labels` as annotations, and
    axis titles (a projection whose axes mean something)."""
    xy = _check_points(xy, groups, hover)
    low, high = xy.min(axis=0), xy.max(axis=0)
    pad = 0.04 * (high - low)
    gx, gy = np.meshgrid(np.linspace(low[0] - pad[0], high[0] + pad[0], GRID_POINTS),
                         np.linspace(low[1] - pad[1], high[1] + pad[1], GRID_POINTS))
    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=gx.ravel(), y=gy.ravel(), mode="markers", name="empty space", showlegend=False, hoverinfo="none",
        marker=dict(size=9, color="rgba(250,251,252,0.01)", symbol="square"),
    ))
    groups = np.asarray(groups)
    colours = {}
    for number, members in enumerate(map_trace_members(groups)):
        group = groups[members[0]]
        colours[str(group)] = PALETTE[number % len(PALETTE)]
        figure.add_trace(go.Scatter(
            x=xy[members, 0], y=xy[members, 1], mode="markers", name=str(group), customdata=members,
            text=[hover[i] for i in members], hovertemplate="%{text}<extra></extra>",
            marker=dict(size=7, color=colours[str(group)], line=dict(width=0.5, color="white")),
            selected=dict(marker=dict(size=13)), unselected=dict(marker=dict(opacity=0.55)),
        ))
    for name, contour in (contours or {}).items():
        colour = colours.get(name, DOMAIN_COLOURS.get(name, "#6d6875"))  # a group's points' own colour
        high, low = contour.levels[0], contour.levels[-1]
        figure.add_trace(go.Contour(
            x=np.round(contour.x, 4), y=np.round(contour.y, 4), z=np.round(contour.density, 6), name=f"{name} density",
            contours=dict(coloring="lines", start=low, end=high, size=max(high - low, 1e-9), showlabels=False),
            colorscale=[[0, colour], [1, colour]], showscale=False, line=dict(width=1.5), opacity=0.8,
            hoverinfo="skip", showlegend=False,
        ))
    titled = axis_titles is not None
    figure.update_layout(
        height=560, margin=dict(l=10, r=10, t=30, b=10), hoverdistance=HOVER_REACH, meta=MAP_META,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0), plot_bgcolor="#fafbfc",
        xaxis=dict(showticklabels=titled, title=axis_titles[0] if titled else None, zeroline=titled),
        yaxis=dict(showticklabels=titled, title=axis_titles[1] if titled else None, zeroline=titled),
        annotations=[dict(x=label.x, y=label.y, text=html.escape(label.text), showarrow=False,
                          font=dict(size=11, color="#1f2430"), bgcolor="rgba(255,255,255,0.78)", borderpad=2)
                     for label in labels or ()],
    )
    return figure


def add_star(figure: go.Figure, point: tuple[float, float], name: str = "your image") -> go.Figure:
    """The map (a session's own figure) with one extra starred point."""
    if len(point) != 2 or not np.all(np.isfinite(point)):
        raise ValueError("a starred point needs two finite coordinates")
    return figure.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name=name,
                                       hovertemplate=f"{name}<extra></extra>",
                                       marker=dict(size=16, symbol="star", color="#111", line=dict(color="white"))))


def add_faces(figure: go.Figure, xy: np.ndarray, thumbnails: list[str], size: float = 0.035) -> go.Figure:
    """The map (a figure of one's own) with each image drawn at its point (`size` is a fraction
    of the map's span, so faces grow as you zoom in); the markers stay on top for hover and
    selection."""
    xy = _check_points(xy, thumbnails)
    span = float(max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1])) or 1.0)
    figure.update_layout(images=[dict(source=url, x=x, y=y, xref="x", yref="y", sizex=size * span, sizey=size * span,
                                      xanchor="center", yanchor="middle", layer="below", sizing="contain")
                                 for url, (x, y) in zip(thumbnails, xy)])
    for trace in figure.data[1:]:
        if trace.type == "scatter":
            trace.marker.opacity = 0.25
    return figure


def histogram_figure(means: np.ndarray, groups: dict[str, np.ndarray], dimensions: int) -> go.Figure:
    """Histograms of the first `dimensions` latent dims per group, with N(0, 1) overlaid, drawn as
    small multiples on one pair of axes: each panel is 8 units wide (z in [-4, 4]) and 1 high, its
    bars and curve scaled to the panel's peak. One trace per group, not one per panel and group:
    20 subplots take the browser more than twice as long to draw."""
    means = np.asarray(means)
    if means.ndim != 2 or not 1 <= dimensions <= means.shape[1]:
        raise ValueError(f"need (N, L) means and 1 <= dimensions <= L, got {means.shape} and {dimensions}")
    if any(len(mask) != len(means) or name not in DOMAIN_COLOURS for name, mask in groups.items()):
        raise ValueError(f"groups must be masks over the {len(means)} images named in {sorted(DOMAIN_COLOURS)}")
    columns = 10
    rows = -(-dimensions // columns)
    bins = np.linspace(-4, 4, 33)
    width = bins[1] - bins[0]
    centres = (bins[:-1] + bins[1:]) / 2
    curve = np.linspace(-4, 4, 41)
    normal = gaussian_density(curve)
    dims = np.arange(dimensions)
    middle = (dims % columns) * PANEL_STEP[0] + 4  # (D,) panel middles and baselines
    base = -(dims // columns) * PANEL_STEP[1]
    density, outside = {}, np.ones(dimensions, bool)
    for name, mask in groups.items():
        counts = np.stack([np.histogram(means[mask, d], bins=bins)[0] for d in dims])  # (D, 32)
        # a density over [-4, 4]; a group with no code there draws no bars
        density[name] = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) / width
        outside &= counts.sum(axis=1) == 0
    peak = np.maximum(np.max([values.max(axis=1) for values in density.values()], axis=0), normal.max()) / 0.95
    figure = go.Figure(go.Bar(x=middle, y=np.ones(dimensions), base=base, width=8, hoverinfo="skip", showlegend=False,
                              marker=dict(color="#eef1f6", line_width=0)))  # the panels' backgrounds
    for name, values in density.items():
        figure.add_trace(go.Bar(
            x=np.round((centres + middle[:, None]).ravel(), 3), y=np.round((values / peak[:, None]).ravel(), 4),
            base=np.repeat(base, len(centres)), width=width, opacity=0.65, name=name,
            marker=dict(color=DOMAIN_COLOURS[name], line_width=0),
            customdata=np.stack([np.repeat(dims, len(centres)), np.tile(np.round(centres, 2), dimensions),
                                 np.round(values.ravel(), 4)], axis=1),
            hovertemplate="z%{customdata[0]} near %{customdata[1]}: density %{customdata[2]}"
                          f"<extra>{name}</extra>",
        ))
    gaps = np.full((dimensions, 1), np.nan)  # one line with a break between panels
    figure.add_trace(go.Scatter(
        x=np.concatenate([np.round(curve + middle[:, None], 3), gaps], axis=1).ravel(),
        y=np.concatenate([np.round(normal / peak[:, None] + base[:, None], 4), gaps], axis=1).ravel(),
        mode="lines", name="N(0, 1)", line=dict(color="#111", width=1), hoverinfo="skip",
    ))
    titles = [f"z{d}" + (" (beyond ±4)" if outside[d] else "") for d in dims]
    figure.add_trace(go.Scatter(x=middle, y=base + 1.02, mode="text", text=titles,
                                textposition="top center", textfont_size=10, hoverinfo="skip", showlegend=False))
    figure.update_layout(height=150 * rows + 60, barmode="overlay", bargap=0, margin=dict(l=10, r=10, t=50, b=10),
                         legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0), plot_bgcolor="white")
    figure.update_xaxes(visible=False, range=[-0.3, columns * PANEL_STEP[0] - 0.7], fixedrange=True)
    figure.update_yaxes(visible=False, range=[base.min() - 0.05, 1.3], fixedrange=True)
    return figure


def kl_figure(kl: np.ndarray, active: np.ndarray) -> go.Figure:
    """KL per latent dimension; inactive dimensions greyed. The dimensions are numbers on a linear
    axis: 96 category labels ("z0" to "z95") take the browser longer to lay out and draw."""
    if len(kl) != len(active):
        raise ValueError("kl and active need one entry per latent dimension")
    figure = go.Figure(go.Bar(x=np.arange(len(kl)), y=np.round(kl, 2), hovertemplate="z%{x}: %{y} nats<extra></extra>",
                              marker_color=np.where(active, "#29335c", "#c9ccd5")))
    figure.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="KL (nats)",
                         xaxis_title="latent dimension")
    return figure


def training_figure(history: dict[str, np.ndarray]) -> go.Figure:
    """Training and validation curves of MSE, SSIM and KL by epoch."""
    if "epoch" not in history:
        raise ValueError("a training history needs an 'epoch' column")
    figure = make_subplots(rows=1, cols=3, subplot_titles=("pixel MSE", "SSIM", "KL (nats)"))
    for column, key in enumerate(("mse", "ssim", "kl"), start=1):
        for prefix, colour in (("", "#29335c"), ("val_", "#e4572e")):
            if prefix + key in history and len(history[prefix + key]) == len(history["epoch"]):
                figure.add_trace(go.Scatter(x=history["epoch"], y=history[prefix + key], mode="lines",
                                            name="validation" if prefix else "training", line=dict(color=colour),
                                            legendgroup=prefix, showlegend=column == 1), row=1, col=column)
    figure.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2))
    figure.update_xaxes(title_text="epoch")
    return figure
