"""Intrinsic-dimension estimates, checked where the answer is known: subspace data, and by brute force."""

import numpy as np
import pytest

from robustlaw.data.intrinsic import intrinsic_estimates, levina_bickel, neighbour_distances, pca_components
from robustlaw.data.synthetic import make_dataset

COMMON = dict(n=1000, d=64, n_test=10, labels="random_sign", sigma=1.0, components=1, seed=0, eps=0.99)


def subspace_points(m: int, n: int = 1000) -> np.ndarray:
    arrays, _ = make_dataset(COMMON | {"distribution": "subspace", "intrinsic_dim": m, "n": n})
    return arrays["x_train"]


def brute_force_distances(points: np.ndarray, k: int) -> np.ndarray:
    """Each row's k smallest distances to the other rows, from all differences in numpy."""
    gaps = np.linalg.norm(points[:, None] - points[None], axis=2)
    np.fill_diagonal(gaps, np.inf)
    return np.sort(gaps, axis=1)[:, :k]


def brute_force_levina_bickel(x: np.ndarray, k: int) -> float:
    nearest = brute_force_distances(np.unique(x, axis=0), k)
    return 1.0 / np.mean(np.log(nearest[:, -1:] / nearest[:, :-1]).sum(axis=1) / (k - 2))


def test_neighbour_distances_and_the_estimate_match_brute_force():
    x = np.random.default_rng(0).standard_normal((300, 7))
    assert np.allclose(neighbour_distances(x, 5), brute_force_distances(x, 5), rtol=1e-12, atol=0)
    # Repeated points are dropped before the search, the point itself left out of its own neighbours.
    repeated = np.concatenate([x, x[:40], x[:3]])
    assert levina_bickel(repeated, 10) == pytest.approx(brute_force_levina_bickel(x, 10), rel=1e-13, abs=0)
    # A grid: many neighbours at equal distances, where which of them is found cannot change a distance.
    grid = np.stack(np.meshgrid(*[np.arange(6.0)] * 3), axis=-1).reshape(-1, 3)
    assert np.array_equal(neighbour_distances(grid, 12), brute_force_distances(grid, 12))
    assert levina_bickel(grid, 12) == pytest.approx(brute_force_levina_bickel(grid, 12), rel=1e-15, abs=0)


@pytest.mark.parametrize(("m", "low", "high"), [(4, 2.6, 3.4), (8, 5.6, 7.4)])
def test_the_mle_finds_the_dimension_of_the_sphere_in_a_subspace(m, low, high):
    # The unit sphere of an m-dimensional subspace is an (m - 1)-dimensional manifold; with n = 1000
    # points the estimate is biased low as m grows (about 6.2 for m = 8).
    assert low < levina_bickel(subspace_points(m)) < high


def test_the_estimates_grow_with_the_subspace_and_pca_stays_within_it():
    estimates = [intrinsic_estimates(subspace_points(m)) for m in (2, 4, 8, 16, 64)]
    mle = [entry["d_mle"] for entry in estimates]
    assert np.all(np.diff(mle) > 0) and mle[0] == pytest.approx(1.0, abs=0.2)
    for m, entry in zip((2, 4, 8, 16, 64), estimates, strict=True):
        # Isotropic in the subspace: about 0.9 m components hold 90% of the variance, never more than m.
        assert 0.8 * m <= entry["d_pca90"] <= m


def test_pca_counts_components_until_the_share_is_reached():
    x = np.random.default_rng(1).standard_normal((4000, 4)) * np.sqrt([0.6, 0.25, 0.1, 0.05])
    assert pca_components(x, 0.5) == 1 and pca_components(x, 0.8) == 2 and pca_components(x, 0.99) == 4
    assert pca_components(x, 1.0) == 4


def test_repeated_points_and_small_sets_are_handled():
    x = subspace_points(4, n=200)
    assert levina_bickel(np.concatenate([x, x[:50]])) == pytest.approx(levina_bickel(x))
    few = intrinsic_estimates(x[:10])
    assert few["d_mle_neighbours"] == 9 and few["d_mle"] > 0
    assert intrinsic_estimates(x[:3])["d_mle"] is None
    with pytest.raises(ValueError, match="k >= 3"):
        levina_bickel(x, 2)


def test_digits_get_both_estimates_and_the_mle_as_their_intrinsic_dimension():
    entry = dict(distribution="digits", n=1000, n_test=797, d=64, labels="even_odd", label_noise=0.1, seed=0)
    _, meta = make_dataset(entry | {"eps": 0.1, "sigma": 0.4, "components": 1})
    # Published estimates for these digits: a handful of dimensions locally, a few dozen linearly.
    assert 3 < meta["d_mle"] < 15 < meta["d_pca90"] < 40
    assert meta["d_intrinsic"] == meta["d_mle"] and meta["d_mle_neighbours"] == 20
