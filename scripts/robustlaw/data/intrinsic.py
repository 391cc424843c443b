"""Intrinsic-dimension estimates of a dataset's training inputs, for every source (synthetic or real).

- PCA: the number of principal components that hold VARIANCE_SHARE of the variance. It sees
  the smallest linear space the data fill, so it overestimates on curved sets (about 87 for
  MNIST) and, on isotropic data, stops short of the span (about 0.9 m for a sphere in m dims).
- Maximum likelihood (Levina & Bickel 2005) from the distances T_1 <= ... <= T_k of each point
  to its k nearest neighbours: 1 / m_i = (1 / (k - 2)) sum_{j<k} log(T_k / T_j), the unbiased
  form, averaged over points as inverses (MacKay & Ghahramani's correction) and then inverted.
  It measures the dimension of the manifold near the data: for the unit sphere of an
  m-dimensional subspace, a manifold of dimension m - 1, it gives about m - 1; it is biased low
  when m is large and the points few.
The neighbours and their float64 Euclidean distances come from scikit-learn's NearestNeighbors, by
exhaustive search. scikit-dimension 0.5.0 has both estimators, but needs numba, which the pinned
environment does not have; these few lines replace it.
"""

import numpy as np

VARIANCE_SHARE = 0.9
NEIGHBOURS = 20
# An exhaustive neighbour search costs O(points^2 d): a larger training set is estimated on its
# first MAX_POINTS rows, which are already a random draw (synthetic data are i.i.d., real data a
# seeded subsample).
MAX_POINTS = 10_000


def pca_components(x: np.ndarray, share: float = VARIANCE_SHARE) -> int:
    """The fewest principal components whose variances sum to at least `share` of the total."""
    centred = np.asarray(x, dtype=np.float64) - np.asarray(x, dtype=np.float64).mean(axis=0)
    variances = np.clip(np.linalg.eigvalsh(centred.T @ centred)[::-1], 0.0, None)
    cumulative = np.cumsum(variances) / variances.sum()
    # The last share is 1 up to rounding: clipping keeps share = 1 from running past d.
    return int(min(np.searchsorted(cumulative, share), len(variances) - 1)) + 1


def neighbour_distances(x: np.ndarray, k: int) -> np.ndarray:
    """(points, k) distances from each row to its k nearest other rows, ascending, in float64.

    scikit-learn's exhaustive search (algorithm="brute"; "auto" picks it too above 15 dimensions),
    whatever the dimension: sqrt(|a|^2 - 2 a.b + |b|^2) in float64, clipped at 0, as this module
    computed it before it used scikit-learn, up to the order of the sums (d_mle moved by at most
    4.6e-16 relative on the configs' datasets). Asked for no query points, kneighbors leaves each row
    itself out by its index, not by distance.
    """
    # Imported here: scikit-learn takes about a second to import, and only the generate_data job needs it.
    from sklearn.neighbors import NearestNeighbors

    points = np.asarray(x, dtype=np.float64)
    search = NearestNeighbors(n_neighbors=k, algorithm="brute", metric="euclidean").fit(points)
    distances, _ = search.kneighbors()
    return distances


def levina_bickel(x: np.ndarray, k: int = NEIGHBOURS) -> float:
    """Maximum-likelihood intrinsic dimension from k-nearest-neighbour distances (see the module text).

    Repeated points are dropped first: a zero distance has no logarithm.
    """
    if k < 3:
        raise ValueError(f"the estimate needs k >= 3 neighbours, got {k}")
    points = np.unique(np.asarray(x, dtype=np.float64), axis=0)
    if len(points) <= k:
        raise ValueError(f"{len(points)} distinct points, the estimate needs more than k = {k}")
    distances = neighbour_distances(points, k)
    # Rounding in the distance expansion can leave a near-duplicate at 0; it carries no scale.
    distances = distances[distances[:, 0] > 0]
    log_ratios = np.log(distances[:, -1:] / distances[:, :-1]).sum(axis=1) / (k - 2)
    return float(1.0 / log_ratios.mean())


def intrinsic_estimates(x: np.ndarray) -> dict:
    """Both estimates for a training matrix (points, d), with what they were computed on."""
    points = np.asarray(x)[:MAX_POINTS]
    distinct = len(np.unique(points, axis=0))
    k = min(NEIGHBOURS, distinct - 1)
    return {
        "d_pca90": pca_components(points),
        "d_mle": levina_bickel(points, k) if k >= 3 else None,
        "d_mle_neighbours": k if k >= 3 else None,
        "intrinsic_points": len(points),
    }
