"""What the latent map draws over its points, computed once per model and projection: density
contours of each group, and labels on the map's clusters (as Apple's Embedding Atlas does).
numpy and scipy, no Streamlit and no plotting; `explorer.figures` draws them."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

CONTOUR_FRACTIONS = (0.5, 0.9)  # each group's contours enclose these shares of its points
CONTOUR_GRID = 64  # density evaluated on this many x this many points over the map
CLUSTERS = 12  # clusters found on a map of about a thousand faces
NAME_LENGTH = 20
LABEL_ROOM = (0.16, 0.05)  # a label's room, as shares of the map's width and height: a smaller
                           # cluster's label that would overlap a larger one's is left out
HEAD_PREFIX = re.compile(r"^minifig head (with )?", re.IGNORECASE)  # what every LDraw head's name starts with


@dataclass(frozen=True)
class Contours:
    """A group's density on a grid (density[i, j] at x[j], y[i]) and the levels at which its
    contours enclose CONTOUR_FRACTIONS of the group's points (highest level first)."""

    x: np.ndarray  # (G,)
    y: np.ndarray  # (G,)
    density: np.ndarray  # (G, G)
    levels: tuple[float, ...]


@dataclass(frozen=True)
class ClusterLabel:
    """A cluster of the map: where its label goes (its centre), its most common expression tag
    and its most typical face's name (the member nearest the centre)."""

    x: float
    y: float
    tag: str
    name: str
    members: np.ndarray  # row numbers of the points it covers

    @property
    def text(self) -> str:
        return f"{self.tag} · {self.name}"


def _check_xy(xy: np.ndarray) -> np.ndarray:
    xy = np.asarray(xy, np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or not np.all(np.isfinite(xy)):
        raise ValueError(f"map points must be finite, with shape (N, 2), not {xy.shape}")
    return xy


def _bandwidth(points: np.ndarray) -> np.ndarray:
    """Scott's factor (n ** -1/6 in two dimensions, as scipy's gaussian_kde) times each axis's
    spread: a kernel along the axes, where scipy's follows the points' full covariance."""
    return np.maximum(points.std(axis=0), 1e-9) * len(points) ** (-1 / 6)


def _binned_kde(points: np.ndarray, x: np.ndarray, y: np.ndarray, bandwidth: np.ndarray) -> np.ndarray:
    """(G, G) Gaussian kernel density of `points` (N, 2) at the grid's nodes, density[i, j] at
    (x[j], y[i]): each point counted in the cell of its nearest node, the counts smoothed by the
    kernel along each axis (a binned KDE: far faster than the exact sum over every point and
    node, off by at most half a grid cell in where a point lies)."""
    from scipy.ndimage import gaussian_filter

    step = np.array([x[1] - x[0], y[1] - y[0]])

    def edges(nodes: np.ndarray, width: float) -> np.ndarray:  # the cells around the nodes
        return np.append(nodes - width / 2, nodes[-1] + width / 2)

    counts = np.histogram2d(points[:, 1], points[:, 0], bins=[edges(y, step[1]), edges(x, step[0])])[0]
    # nothing beyond the grid's edge, and the kernel's tails kept to six of its widths
    smoothed = gaussian_filter(counts, (bandwidth[1] / step[1], bandwidth[0] / step[0]), mode="constant", truncate=6.0)
    return smoothed / (len(points) * step.prod())


def _read_grid(grid: np.ndarray, x: np.ndarray, y: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear reading of a grid (as `_binned_kde` lays it out) at points (N, 2)."""
    fx = np.clip((points[:, 0] - x[0]) / (x[1] - x[0]), 0, len(x) - 1.000001)
    fy = np.clip((points[:, 1] - y[0]) / (y[1] - y[0]), 0, len(y) - 1.000001)
    j, i = fx.astype(int), fy.astype(int)
    dx, dy = fx - j, fy - i
    return ((1 - dy) * ((1 - dx) * grid[i, j] + dx * grid[i, j + 1])
            + dy * ((1 - dx) * grid[i + 1, j] + dx * grid[i + 1, j + 1]))


def density_contours(xy: np.ndarray, groups: dict[str, np.ndarray], grid: int = CONTOUR_GRID,
                     fractions: tuple[float, ...] = CONTOUR_FRACTIONS) -> dict[str, Contours]:
    """Each group's (name -> mask over the points) density and its highest-density contours: the
    level of fraction f is the density that f of the group's own points lie above."""
    xy = _check_xy(xy)
    low, high = xy.min(axis=0), xy.max(axis=0)
    pad = 0.08 * np.maximum(high - low, 1e-9)
    x, y = (np.linspace(low[k] - pad[k], high[k] + pad[k], grid) for k in range(2))
    contours = {}
    for name, mask in groups.items():
        points = xy[np.asarray(mask, bool)]
        if len(points) < 3:
            continue  # no shape to draw from two points
        density = _binned_kde(points, x, y, _bandwidth(points))
        at_points = _read_grid(density, x, y, points)
        levels = tuple(float(np.quantile(at_points, 1 - f)) for f in sorted(fractions))
        contours[name] = Contours(x, y, density, levels)
    return contours


def kmeans(xy: np.ndarray, k: int, seed: int = 0, iterations: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """(centres (k, 2), assignment (N,)): Lloyd's k-means with k-means++ seeding. Kept rather than
    scipy's kmeans2(minit="++"), which settles in a worse optimum on the shipped PCA map (5 % more
    inertia, other clusters) from the same seed; on the UMAP map the two agree."""
    xy = _check_xy(xy)
    if not 1 <= k <= len(xy):
        raise ValueError(f"k must lie between 1 and the {len(xy)} points, not {k}")
    rng = np.random.default_rng(seed)
    centres = [xy[rng.integers(len(xy))]]
    for _ in range(1, k):
        distance = np.min(np.square(xy[:, None] - np.array(centres)[None]).sum(axis=2), axis=1)
        centres.append(xy[rng.choice(len(xy), p=distance / distance.sum())] if distance.sum() else xy[0])
    centres = np.array(centres)
    assignment = np.full(len(xy), -1)
    for _ in range(iterations):
        new = np.argmin(np.square(xy[:, None] - centres[None]).sum(axis=2), axis=1)
        if np.array_equal(new, assignment):
            break
        assignment = new
        centres = np.array([xy[assignment == c].mean(axis=0) if np.any(assignment == c) else centres[c]
                            for c in range(k)])
    return centres, assignment


def most_common_tag(tags: list[str]) -> str:
    """The expression tag most of these faces carry ("|"-joined tags per face); "untagged" when
    none carries one. Ties go to the tag met first."""
    counts = Counter(tag for joined in tags for tag in joined.split("|") if tag)
    return counts.most_common(1)[0][0] if counts else "untagged"


def cluster_labels(xy: np.ndarray, tags: list[str], names: list[str], clusters: int = CLUSTERS,
                   seed: int = 0) -> list[ClusterLabel]:
    """A label for each cluster of the map's points: its most common tag and the name of the face
    nearest its centre, placed at that centre; largest clusters first, without overlaps."""
    xy = _check_xy(xy)
    if len(tags) != len(xy) or len(names) != len(xy):
        raise ValueError(f"tags and names need one entry per point ({len(xy)})")
    centres, assignment = kmeans(xy, min(clusters, len(xy)), seed)
    room = np.array(LABEL_ROOM) * np.maximum(np.ptp(xy, axis=0), 1e-9)
    labels = []
    for number in np.argsort(-np.bincount(assignment, minlength=len(centres)), kind="stable"):  # largest first
        centre, members = centres[number], np.flatnonzero(assignment == number)
        if len(members) == 0 or any(np.all(np.abs(centre - (label.x, label.y)) < room) for label in labels):
            continue
        typical = members[np.argmin(np.square(xy[members] - centre).sum(axis=1))]
        name = HEAD_PREFIX.sub("", str(names[typical])) or str(names[typical])
        if len(name) > NAME_LENGTH:
            name = name[:NAME_LENGTH - 1] + "…"
        labels.append(ClusterLabel(float(centre[0]), float(centre[1]), most_common_tag([tags[i] for i in members]),
                                   name, members))
    return labels
