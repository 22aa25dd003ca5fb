"""Latent-space maths in numpy (scikit-learn and SciPy, imported where used, fit the PCA, the
mixtures and the grid lookup), shared by the model's tools and the dashboard (never imports
streamlit, keras or tensorflow)."""
from __future__ import annotations

import numpy as np


def lerp(z0: np.ndarray, z1: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """Straight-line interpolation; t may be a scalar or a (T,) array giving (T, L)."""
    t = np.asarray(t, dtype=np.float64)[..., None]
    return (1.0 - t) * z0 + t * z1


def slerp(z0: np.ndarray, z1: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """Spherical interpolation: follows the great circle, and its norm interpolates linearly,
    so it keeps to the shell where Gaussian latents live instead of cutting through the middle."""
    t = np.asarray(t, dtype=np.float64)[..., None]
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 < 1e-12 or n1 < 1e-12:
        return lerp(z0, z1, t[..., 0])
    u0, u1 = z0 / n0, z1 / n1
    omega = np.arccos(np.clip(np.dot(u0, u1), -1.0, 1.0))
    if np.pi - omega < 1e-6:  # opposite codes: no single great circle joins them
        return lerp(z0, z1, t[..., 0])
    if omega < 1e-6:
        direction = lerp(u0, u1, t[..., 0])
    else:
        direction = (np.sin((1.0 - t) * omega) * u0 + np.sin(t * omega) * u1) / np.sin(omega)
    return direction * ((1.0 - t) * n0 + t * n1)


def interpolate(z0: np.ndarray, z1: np.ndarray, t: float | np.ndarray, method: str = "slerp") -> np.ndarray:
    """The way from z0 to z1 at t (a scalar, or (T,) giving (T, L)), straight or spherical."""
    if method not in ("lerp", "slerp"):
        raise ValueError(f"unknown interpolation {method!r}: use 'lerp' or 'slerp'")
    return (slerp if method == "slerp" else lerp)(np.asarray(z0, np.float64), np.asarray(z1, np.float64), t)


def interpolate_latents(z0: np.ndarray, z1: np.ndarray, steps: int, method: str = "slerp") -> np.ndarray:
    """(steps, L) latents from z0 to z1 inclusive."""
    if steps < 2:
        raise ValueError("a morph needs at least 2 steps")
    return interpolate(z0, z1, np.linspace(0.0, 1.0, steps), method)


def expression_vector(latents: np.ndarray, has_tag: np.ndarray, domains: np.ndarray) -> np.ndarray:
    """Mean latent with the tag minus mean latent without it, averaged over the domains where
    the tag occurs, so the vector speaks of the expression rather than of Lego versus emoji."""
    vectors = []
    for domain in np.unique(domains):
        in_domain = domains == domain
        with_tag, without = in_domain & has_tag, in_domain & ~has_tag
        if with_tag.any() and without.any():
            vectors.append(latents[with_tag].mean(axis=0) - latents[without].mean(axis=0))
    if not vectors:
        raise ValueError("no image carries this expression")
    return np.mean(vectors, axis=0)


def apply_expression(z_face: np.ndarray, vector: np.ndarray, strength: float) -> np.ndarray:
    """Move a face's latent along an expression vector."""
    return np.asarray(z_face) + strength * np.asarray(vector)


def nearest_neighbours(latents: np.ndarray, query: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
    """Indices of the k latents closest to `query` (Euclidean), nearest first, equal distances
    (one face in two packs can have the same code) in index order, so every machine answers alike."""
    distances = np.linalg.norm(latents - query, axis=1)
    if exclude is not None:
        distances[exclude] = np.inf
    k = min(k, int(np.isfinite(distances).sum()))
    return np.argsort(distances, kind="stable")[:k]


def fit_pca(latents: np.ndarray, components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(mean (L,), components (C, L)) of the latents by scikit-learn's PCA, each component signed
    so that its largest entry is positive: the map never flips between fits."""
    from sklearn.decomposition import PCA

    vt = (pca := PCA(n_components=components, svd_solver="full").fit(latents)).components_
    signs = np.sign(vt[np.arange(components), np.argmax(np.abs(vt), axis=1)])
    return pca.mean_, vt * signs[:, None]


def pca_project(latents: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    return (np.atleast_2d(latents) - mean) @ components.T


def pca_inverse(points: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    """The latent on the PCA plane that projects to each 2-D point."""
    return np.atleast_2d(points) @ components + mean


def grid_inverse(points: np.ndarray, grid: np.ndarray, extent: np.ndarray) -> np.ndarray:
    """Bilinear lookup of latents in a precomputed (G, G, L) grid over extent (x0, x1, y0, y1).

    grid[i, j] holds the latent at x = x0 + j * dx, y = y0 + i * dy. Points outside are clamped.
    """
    from scipy.interpolate import RegularGridInterpolator

    points = np.atleast_2d(points).astype(np.float64)
    ys, xs = (np.linspace(extent[2], extent[3], grid.shape[0]), np.linspace(extent[0], extent[1], grid.shape[1]))
    lookup = RegularGridInterpolator((ys, xs), grid, method="linear")
    return lookup(np.column_stack([np.clip(points[:, 1], ys[0], ys[-1]), np.clip(points[:, 0], xs[0], xs[-1])]))


def place_on_map(z: np.ndarray, latents: np.ndarray, embedding: np.ndarray, k: int = 8) -> np.ndarray:
    """2-D position of a new latent: the inverse-distance-weighted mean position of its k nearest
    neighbours (how UMAP itself initialises a transformed point)."""
    nearest = nearest_neighbours(latents, z, k)
    distances = np.linalg.norm(latents[nearest] - z, axis=1)
    weights = 1.0 / (distances + 1e-6)
    return (embedding[nearest] * weights[:, None]).sum(axis=0) / weights.sum()


def split_half_agreement(group_a: np.ndarray, group_b: np.ndarray, splits: int = 100, seed: int = 0) -> float:
    """How steady the direction from group A's mean code to group B's is: the mean cosine between
    two directions, each built from a random half of each group (A (Na, L), B (Nb, L), at least
    2 codes each). Near 1 the halves point the same way; near 0 or below they are unrelated, as
    for two random groups, and the direction is noise."""
    group_a, group_b = np.asarray(group_a, np.float64), np.asarray(group_b, np.float64)
    if min(len(group_a), len(group_b)) < 2:
        raise ValueError("each group needs at least 2 codes to be split in halves")
    rng = np.random.default_rng(seed)
    cosines = np.empty(splits)
    for split in range(splits):
        a, b = rng.permutation(len(group_a)), rng.permutation(len(group_b))
        half_a, half_b = len(a) // 2, len(b) // 2
        first = group_b[b[:half_b]].mean(axis=0) - group_a[a[:half_a]].mean(axis=0)  # (L,)
        second = group_b[b[half_b:]].mean(axis=0) - group_a[a[half_a:]].mean(axis=0)
        cosines[split] = first @ second / max(np.linalg.norm(first) * np.linalg.norm(second), 1e-12)
    return float(cosines.mean())


def angle_between(u: np.ndarray, v: np.ndarray) -> float:
    """The angle in degrees between two latent directions: 0 the same way, 90 unrelated, 180 opposite."""
    u, v = np.asarray(u, np.float64), np.asarray(v, np.float64)
    norms = np.linalg.norm(u) * np.linalg.norm(v)
    if norms == 0:
        raise ValueError("a direction of length 0 has no angle")
    return float(np.degrees(np.arccos(np.clip(u @ v / norms, -1.0, 1.0))))


def direction_coordinates(latents: np.ndarray, centre: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """(N, 2) places of latents (N, L) on a plane whose axes are two directions (2, L): how far
    each lies from `centre` along each direction, in latent units (the Embedding Projector's
    custom projection)."""
    units = _unit_rows(directions)
    return (np.atleast_2d(latents) - centre) @ units.T


def direction_inverse(points: np.ndarray, centre: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """The latents (P, L) nearest `centre` that `direction_coordinates` places at each 2-D point:
    two directions need not be orthogonal, so the plane's inverse is a pseudo-inverse."""
    units = _unit_rows(directions)
    return np.atleast_2d(points) @ np.linalg.pinv(units).T + centre


def _unit_rows(directions: np.ndarray) -> np.ndarray:
    directions = np.asarray(directions, np.float64)
    norms = np.linalg.norm(directions, axis=1, keepdims=True)
    if directions.ndim != 2 or np.any(norms == 0):
        raise ValueError("the axes need directions of nonzero length, one per row")
    return directions / norms


def kl_per_dimension(means: np.ndarray, log_vars: np.ndarray) -> np.ndarray:
    """Mean KL(q(z|x) || N(0, 1)) of each latent dimension over the images: (L,)."""
    return (-0.5 * (1.0 + log_vars - np.square(means) - np.exp(log_vars))).mean(axis=0)


def move_expression(z_face: np.ndarray, z_target: np.ndarray, strength: float, expression_dims: int) -> np.ndarray:
    """The face's latent with its expression dims moved `strength` of the way to the target's
    (1 replaces them, above 1 exaggerates); every other dim, the face's identity, is kept."""
    z_face = np.asarray(z_face, np.float64)
    moved = z_face.copy()
    head = slice(0, expression_dims)
    moved[..., head] = z_face[..., head] + strength * (np.asarray(z_target, np.float64)[..., :expression_dims]
                                                       - z_face[..., head])
    return moved


def tag_centroid(latents: np.ndarray, has_tag: np.ndarray) -> np.ndarray:
    """Mean latent of the images that carry a tag, whatever their domain."""
    if not np.any(has_tag):
        raise ValueError("no image carries this expression")
    return latents[has_tag].mean(axis=0)


def fit_gaussian_mixture(latents: np.ndarray, components: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Ex-post density estimate of the aggregate posterior (Ghosh et al. 2020): weights (K,),
    means (K, L) and Cholesky factors (K, L, L) of a full-covariance Gaussian mixture."""
    from sklearn.mixture import GaussianMixture

    components = max(1, min(components, len(latents) // 4))
    mixture = GaussianMixture(components, covariance_type="full", reg_covar=1e-4, random_state=seed).fit(latents)
    return {"weights": mixture.weights_.astype(np.float32), "means": mixture.means_.astype(np.float32),
            "cholesky": np.linalg.cholesky(mixture.covariances_).astype(np.float32)}


def sample_gaussian_mixture(mixture: dict[str, np.ndarray], count: int, temperature: float = 1.0,
                            seed: int = 0) -> np.ndarray:
    """(count, L) latents drawn from a mixture written by `fit_gaussian_mixture`; temperature
    scales each component's spread."""
    rng = np.random.default_rng(seed)
    weights = np.asarray(mixture["weights"], np.float64)
    chosen = rng.choice(len(weights), size=count, p=weights / weights.sum())
    noise = rng.standard_normal((count, mixture["means"].shape[1])) * temperature
    return mixture["means"][chosen] + np.einsum("nij,nj->ni", mixture["cholesky"][chosen], noise)


def analogy_codes(a: np.ndarray, b: np.ndarray, c: np.ndarray, steps: int) -> np.ndarray:
    """Tom White's analogy grid ("A is to B as C is to ?"): codes (steps, steps, L) whose row i,
    column j is a + s_j (b - a) + t_i (c - a), s and t going from 0 to 1. Its corners are a (top
    left), b (top right), c (bottom left) and the answer b + c - a (bottom right). Computed as
    weights of a, b and c, so the corners of the three picks are their codes exactly."""
    if steps < 2:
        raise ValueError("an analogy grid needs at least 2 steps")
    a, b, c = (np.asarray(z, np.float64) for z in (a, b, c))  # (L,) each
    if not a.shape == b.shape == c.shape:
        raise ValueError(f"a, b and c must have one shape, not {a.shape}, {b.shape} and {c.shape}")
    fractions = np.linspace(0.0, 1.0, steps)
    return analogy_point(a, b, c, fractions[None, :, None], fractions[:, None, None])  # (steps, steps, L)


def analogy_point(a: np.ndarray, b: np.ndarray, c: np.ndarray, s, t) -> np.ndarray:
    """The analogy grid's point a + s (b - a) + t (c - a), as weights of a, b and c (s and t
    broadcast: scalars give one code, (1, steps, 1) and (steps, 1, 1) the grid)."""
    return (1.0 - s - t) * a + s * b + t * c
