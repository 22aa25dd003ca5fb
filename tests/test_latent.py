import numpy as np
import pytest

from vae import latent
from vae.eval.alignment import frame_smoothness


@pytest.fixture
def pair():
    rng = np.random.default_rng(3)
    return rng.standard_normal(16), 2.5 * rng.standard_normal(16)


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_interpolation_hits_both_endpoints(pair, method):
    z0, z1 = pair
    path = latent.interpolate_latents(z0, z1, 10, method)
    assert path.shape == (10, 16)
    np.testing.assert_allclose(path[0], z0, atol=1e-12)
    np.testing.assert_allclose(path[-1], z1, atol=1e-12)


def test_lerp_midpoint_is_the_average(pair):
    z0, z1 = pair
    np.testing.assert_allclose(latent.lerp(z0, z1, 0.5), (z0 + z1) / 2)


def test_slerp_keeps_norms_and_stays_off_the_middle(pair):
    z0, z1 = pair
    t = np.linspace(0, 1, 11)
    path = latent.slerp(z0, z1, t)
    expected = (1 - t) * np.linalg.norm(z0) + t * np.linalg.norm(z1)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), expected, rtol=1e-10)
    unit = z0 / np.linalg.norm(z0)
    almost_opposite = (1e-3 - unit) / np.linalg.norm(1e-3 - unit)
    np.testing.assert_allclose(np.linalg.norm(latent.slerp(unit, almost_opposite, 0.5)), 1.0, rtol=1e-9)
    assert np.linalg.norm(latent.lerp(z0, z1, 0.5)) < np.linalg.norm(latent.slerp(z0, z1, 0.5))


def test_interpolation_rejects_bad_arguments(pair):
    with pytest.raises(ValueError, match="at least 2"):
        latent.interpolate_latents(*pair, 1)
    with pytest.raises(ValueError, match="unknown interpolation"):
        latent.interpolate_latents(*pair, 5, "cubic")


def test_expression_vector_moves_a_point_towards_its_class():
    rng = np.random.default_rng(0)
    latents = rng.standard_normal((200, 8))
    has_tag = np.arange(200) % 4 == 0
    latents[has_tag, 2] += 3.0  # the expression lives along dimension 2
    domains = np.where(np.arange(200) < 100, "lego", "emoji")
    vector = latent.expression_vector(latents, has_tag, domains)
    assert np.argmax(np.abs(vector)) == 2 and vector[2] > 2.5
    face = latents[~has_tag][0]
    centre = latents[has_tag].mean(axis=0)
    moved = latent.apply_expression(face, vector, 1.0)
    assert np.linalg.norm(moved - centre) < np.linalg.norm(face - centre)
    with pytest.raises(ValueError, match="no image"):
        latent.expression_vector(latents, np.zeros(200, bool), domains)


def test_neighbours_are_exact_on_a_small_case():
    points = np.array([[0.0, 0], [1, 0], [0, 2], [5, 5], [-0.5, 0]])
    assert latent.nearest_neighbours(points, np.array([0.1, 0]), 3).tolist() == [0, 4, 1]
    assert latent.nearest_neighbours(points, points[0], 2, exclude=0).tolist() == [4, 1]
    assert latent.nearest_neighbours(points, points[0], 10).tolist() == [0, 4, 1, 2, 3]


def test_pca_projection_and_inverse_round_trip_on_the_plane():
    rng = np.random.default_rng(1)
    latents = rng.standard_normal((100, 2)) @ rng.standard_normal((2, 6)) + 3.0  # data on a 2-D plane
    mean, components = latent.fit_pca(latents)
    xy = latent.pca_project(latents, mean, components)
    np.testing.assert_allclose(latent.pca_inverse(xy, mean, components), latents, atol=1e-9)


def test_grid_inverse_is_exact_at_grid_nodes_and_bilinear_between():
    size = 5
    extent = np.array([0.0, 4.0, 10.0, 14.0])
    xs, ys = np.meshgrid(np.linspace(0, 4, size), np.linspace(10, 14, size))
    grid = np.stack([xs, ys, xs * 2 + ys], axis=-1)  # a linear field: bilinear lookup is exact
    points = np.array([[1.0, 11.0], [2.5, 13.25], [0.0, 14.0]])
    expected = np.stack([points[:, 0], points[:, 1], points[:, 0] * 2 + points[:, 1]], axis=1)
    np.testing.assert_allclose(latent.grid_inverse(points, grid, extent), expected)
    np.testing.assert_allclose(latent.grid_inverse(np.array([[-9.0, 99.0]]), grid, extent), [[0, 14, 14]])


def test_place_on_map_returns_the_position_of_an_exact_match():
    latents = np.eye(4)
    embedding = np.array([[0.0, 0], [1, 1], [2, 2], [3, 3]])
    np.testing.assert_allclose(latent.place_on_map(latents[2], latents, embedding, k=3), [2, 2], atol=1e-4)


def test_frame_smoothness_is_one_for_an_even_morph():
    frames = np.linspace(0, 1, 10)[:, None, None] * np.ones((10, 4, 4))
    assert frame_smoothness(frames) == pytest.approx(1.0)
    jumpy = frames.copy()
    jumpy[5:] += 1
    assert frame_smoothness(jumpy) > 3


def test_kl_per_dimension_is_zero_for_the_prior():
    assert np.allclose(latent.kl_per_dimension(np.zeros((3, 4)), np.zeros((3, 4))), 0)
    assert np.all(latent.kl_per_dimension(np.ones((3, 4)), np.zeros((3, 4))) > 0)


def test_slerp_between_opposite_codes_stays_finite():
    from vae import latent

    z = np.array([1.0, 2.0, -0.5])
    path = latent.interpolate_latents(z, -z, 7, "slerp")
    assert np.isfinite(path).all()
    assert np.allclose(path[0], z) and np.allclose(path[-1], -z)


def test_a_direction_between_two_halves_of_one_group_is_noise_and_a_real_one_is_steady():
    rng = np.random.default_rng(0)
    group = rng.standard_normal((60, 32))
    assert latent.split_half_agreement(group[:30], group[30:]) < 0.3
    shifted = rng.standard_normal((60, 32)) + 4.0 * np.eye(32)[0]  # the same spread, moved along z0
    assert latent.split_half_agreement(group, shifted) > 0.8
    with pytest.raises(ValueError, match="at least 2"):
        latent.split_half_agreement(group[:1], group)


def test_angles_between_directions():
    u = np.eye(8)[0]
    assert latent.angle_between(u, 3 * u) == pytest.approx(0, abs=1e-6)
    assert latent.angle_between(u, np.eye(8)[1]) == pytest.approx(90)
    assert latent.angle_between(u, -u) == pytest.approx(180)
    with pytest.raises(ValueError, match="length 0"):
        latent.angle_between(u, np.zeros(8))


def test_the_directions_plane_measures_along_each_direction_and_inverts_on_it():
    rng = np.random.default_rng(1)
    directions = rng.standard_normal((2, 16))  # not orthogonal
    centre = rng.standard_normal(16)
    along = centre + 2.0 * directions[0] / np.linalg.norm(directions[0])
    assert latent.direction_coordinates(along, centre, directions)[0, 0] == pytest.approx(2.0)
    points = rng.standard_normal((5, 2))
    codes = latent.direction_inverse(points, centre, directions)
    np.testing.assert_allclose(latent.direction_coordinates(codes, centre, directions), points, atol=1e-9)
    with pytest.raises(ValueError, match="nonzero length"):
        latent.direction_coordinates(along, centre, np.zeros((2, 16)))
