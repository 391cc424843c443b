import numpy as np
import pytest

from robustlaw.data.synthetic import (
    DatasetSpec,
    generate_dataset,
    make_dataset,
    mixture_centres,
    subspace_basis,
    teacher_direction,
)
from robustlaw.seeding import numpy_rng


def spec(**changes) -> DatasetSpec:
    values = dict(distribution="sphere", n=400, d=50, n_test=300, labels="random_sign", sigma=1.0, components=1, seed=3)
    return DatasetSpec(**(values | changes))


def test_sphere_points_have_unit_norm():
    arrays = generate_dataset(spec())
    assert np.allclose(np.linalg.norm(arrays["x_train"], axis=1), 1.0, atol=1e-6)
    assert np.allclose(np.linalg.norm(arrays["x_test"], axis=1), 1.0, atol=1e-6)


def test_gaussian_has_covariance_identity_over_d():
    arrays = generate_dataset(spec(distribution="gaussian", n=4000, d=20))
    x = arrays["x_train"].astype(np.float64)
    assert np.mean(np.sum(x**2, axis=1)) == pytest.approx(1.0, rel=0.03)
    assert np.allclose(np.cov(x.T) * 20, np.eye(20), atol=0.12)


def test_hypercube_has_diameter_one():
    d = 16
    x = generate_dataset(spec(distribution="hypercube", n=2000, d=d))["x_train"].astype(np.float64)
    half_side = 0.5 / np.sqrt(d)
    assert np.all(np.abs(x) <= half_side + 1e-7)
    assert np.max(np.abs(x)) > 0.95 * half_side
    assert np.mean(np.sum(x**2, axis=1)) == pytest.approx(1 / 12, rel=0.05)


@pytest.mark.parametrize("distribution", ["sphere", "gaussian", "hypercube"])
def test_mixture_keeps_the_base_scale_and_has_separated_components(distribution):
    base = generate_dataset(spec(distribution=distribution, n=2000))["x_train"].astype(np.float64)
    mixed = generate_dataset(spec(distribution=distribution, n=2000, components=4))["x_train"].astype(np.float64)
    base_norm2, mixed_norm2 = np.mean(np.sum(base**2, 1)), np.mean(np.sum(mixed**2, 1))
    assert mixed_norm2 == pytest.approx(base_norm2, rel=0.1)
    # Four centres: the mean of the points is far from zero in at least some direction.
    assert np.linalg.norm(mixed.mean(0)) > 3 * np.linalg.norm(base.mean(0))


def test_random_sign_labels_are_plus_minus_one_and_balanced():
    y = generate_dataset(spec(n=4000))["y_train"]
    assert set(np.unique(y)) == {-1.0, 1.0}
    assert abs(np.mean(y)) < 0.05


@pytest.mark.parametrize("sigma", [0.1, 0.5, 1.0])
def test_teacher_labels_are_the_signal_plus_or_minus_sigma(sigma):
    teacher = spec(labels="teacher", sigma=sigma, n=2000, d=10)
    arrays = generate_dataset(teacher)
    # The teacher's direction, drawn from the same seeded stream right after the (absent) mixture centres.
    rng = numpy_rng("dataset", teacher.seed)
    assert mixture_centres(teacher, rng) is None
    direction = teacher_direction(teacher, rng)
    x, y = arrays["x_train"].astype(np.float64), arrays["y_train"].astype(np.float64)
    noise = y - (1 - sigma) * np.tanh(np.sqrt(teacher.d) * (x @ direction))
    assert np.allclose(np.abs(noise), sigma, atol=1e-5)
    # A fair sign: E[y | x] is the signal, so sigma^2 = Var(y | x).
    assert abs(np.mean(np.sign(noise))) < 0.1
    assert np.all(np.abs(y) <= 1.0 + 1e-6)


def test_same_seed_same_data_other_seed_other_data():
    first, again, other = generate_dataset(spec()), generate_dataset(spec()), generate_dataset(spec(seed=4))
    for name in first:
        assert np.array_equal(first[name], again[name])
    assert not np.array_equal(first["x_train"], other["x_train"])


def test_subspace_points_lie_on_the_unit_sphere_of_one_m_dimensional_subspace_per_seed():
    subspace = spec(distribution="subspace", intrinsic_dim=6, n=300, n_test=200)
    arrays = generate_dataset(subspace)
    x = np.concatenate([arrays["x_train"], arrays["x_test"]]).astype(np.float64)
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-6)
    singular = np.linalg.svd(x, compute_uv=False)
    assert singular[5] > 0.3 * singular[0] and singular[6] < 1e-5 * singular[0]  # rank 6, train and test alike
    basis = subspace_basis(subspace)
    assert np.allclose(basis.T @ basis, np.eye(6)) and np.allclose(x @ basis @ basis.T, x, atol=1e-6)
    # Uniform on that sphere: coordinates in the basis are isotropic, with variance 1/m each.
    assert np.allclose(np.cov((x @ basis).T) * 6, np.eye(6), atol=0.25)
    other = subspace_basis(spec(distribution="subspace", intrinsic_dim=6, seed=4))
    assert np.linalg.svd(basis.T @ other, compute_uv=False).max() < 0.99  # another seed, another subspace


def test_a_subspace_mixture_stays_in_its_subspace_and_teacher_labels_work_there():
    mixed = spec(distribution="subspace", intrinsic_dim=3, n=500, components=4, labels="teacher", sigma=0.5)
    x = generate_dataset(mixed)["x_train"].astype(np.float64)
    basis = subspace_basis(mixed)
    assert np.allclose(x @ basis @ basis.T, x, atol=1e-6)
    assert np.mean(np.sum(x**2, 1)) == pytest.approx(1.0, rel=0.1)


def test_every_dataset_records_its_intrinsic_dimension_and_the_estimates():
    common = dict(n=400, d=40, n_test=10, labels="random_sign", sigma=1.0, components=1, seed=0, eps=0.99)
    _, full = make_dataset(common | {"distribution": "gaussian"})
    _, low = make_dataset(common | {"distribution": "subspace", "intrinsic_dim": 5})
    assert full["d_intrinsic"] == 40 and low["d_intrinsic"] == 5 and low["intrinsic_dim"] == 5
    assert low["d_pca90"] <= 5 < full["d_pca90"] and low["d_mle"] < 6 < full["d_mle"]
    assert low["d_mle_neighbours"] == 20 and low["intrinsic_points"] == 400
