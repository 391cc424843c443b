import numpy as np
import pandas as pd
import pytest

from robustlaw.report.law_fit import bootstrap, frontier, law_fits, local_slopes, power_law
from robustlaw.training.controls import effective_parameter_count


def synthetic_runs(slope: float, prefactor: float, noise: float, seeds: int = 5) -> pd.DataFrame:
    """Noisy power-law 'measurements' laid out like runs.parquet rows of one dataset and trainer."""
    rng = np.random.default_rng(7)
    n, d = 1000, 200
    rows = []
    for seed in range(seeds):
        for width in (10, 20, 40, 80, 160, 320):
            p = width * d
            lip = prefactor * (p / (n * d)) ** slope * np.exp(noise * rng.standard_normal())
            rows.append(
                dict(dataset="synthetic", family="mlp", depth=2, trainer="plain", seed=seed, width=width, n=n, d=d,
                     model=f"relu2-k{width}",
                     p=p, p_eff=p, p_over_nd=p / (n * d), fitted=True, lip_upper=lip, lip_lower=lip / 1.01,
                     l_sep=1.2, law_sqrt_nd_over_p=np.sqrt(n * d / p), distribution="sphere", labels="random_sign",
                     d_intrinsic=float(d))
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_the_bootstrap_refits_each_seed_resample_as_a_least_squares_line_would():
    """Each resample's line, from the seeds' sums, is np.polyfit's on the concatenated resample; a
    resample of seeds that hold a single p between them is skipped."""
    runs = synthetic_runs(-0.5, 3.0, noise=0.2, seeds=3)
    runs = runs[(runs["seed"] != 2) | (runs["width"] == 40)]  # seed 2 holds one width only
    fits = bootstrap(runs, "lip_upper", 200, np.random.default_rng(5))
    rng, expected = np.random.default_rng(5), []
    by_seed = [part for _, part in runs.groupby("seed", sort=True)]
    for _ in range(200):
        chosen = pd.concat([by_seed[index] for index in rng.choice(len(by_seed), size=len(by_seed))])
        if chosen["p_over_nd"].nunique() >= 2:
            expected.append(power_law(chosen["p_over_nd"].to_numpy(), chosen["lip_upper"].to_numpy()))
    assert 0 < len(expected) < 200 and fits.shape == (len(expected), 2)
    np.testing.assert_allclose(fits, np.array(expected), rtol=1e-10)


def test_bootstrap_fit_recovers_a_known_slope():
    fits = law_fits(synthetic_runs(-0.5, 3.0, noise=0.05), min_p_over_n=1.0, resamples=500)
    upper = fits[fits["side"] == "upper"].iloc[0]
    assert upper["slope"] == pytest.approx(-0.5, abs=0.05)
    assert upper["slope_low"] < -0.5 < upper["slope_high"]
    assert upper["slope_high"] - upper["slope_low"] < 0.1
    assert upper["prefactor_low"] < 3.0 < upper["prefactor_high"]
    assert upper["window_low"] == pytest.approx(1 / 200) and upper["window_high"] == pytest.approx(1 / 1.2**2)


def test_fit_uses_only_fitted_runs_inside_the_window():
    runs = synthetic_runs(-0.5, 3.0, noise=0.0)
    runs.loc[runs["width"] == 20, "fitted"] = False
    runs.loc[runs["width"] == 20, "lip_upper"] = 1e6  # would wreck the slope if used
    fits = law_fits(runs, min_p_over_n=1.0, resamples=20)
    upper = fits[fits["side"] == "upper"].iloc[0]
    # width 320 sits at p/(nd) = 0.32 < 1/1.2^2; all widths but the unfitted one count
    assert upper["widths"] == 5 and upper["slope"] == pytest.approx(-0.5, abs=1e-9)
    narrow = law_fits(runs, min_p_over_n=8.0, resamples=20)
    assert narrow[narrow["side"] == "upper"].iloc[0]["widths"] == 4  # widths 40..320


def test_quadratic_forms_are_fitted_below_their_cap_only():
    runs = synthetic_runs(-0.5, 3.0, noise=0.0).assign(family="even_ntk")
    cap = 200 * 201 // 2
    runs["p_eff"] = np.minimum(runs["p"] - runs["width"] * (runs["width"] - 1) // 2, cap)
    runs.loc[runs["width"] >= 200, "p_eff"] = cap
    upper = law_fits(runs, min_p_over_n=1.0, resamples=20).query("side == 'upper'").iloc[0]
    assert upper["widths"] == 5  # width 320 is at the cap


def test_frontier_takes_the_smallest_certified_upper_bound_at_each_p():
    runs = pd.concat([synthetic_runs(-0.5, 3.0, 0.0).assign(trainer="plain"),
                      synthetic_runs(-0.5, 2.0, 0.0).assign(trainer="smooth")])  # fmt: skip
    runs.loc[(runs["trainer"] == "smooth") & (runs["width"] == 40), "fitted"] = False
    best = frontier(runs)
    assert len(best) == 6
    assert set(best.loc[best["p"] == 40 * 200, "trainer"]) == {"plain"}
    assert set(best.loc[best["p"] != 40 * 200, "trainer"]) == {"smooth"}


def test_the_fit_against_p_over_n_d_intrinsic_keeps_the_slope_and_moves_the_prefactor_to_p_equal_n_m():
    runs = synthetic_runs(-0.5, 3.0, noise=0.05).assign(d_intrinsic=50.0)
    upper = law_fits(runs, min_p_over_n=1.0, resamples=200).query("side == 'upper'").iloc[0]
    # Lip = 3 (p/(nd))^-1/2 = 3 sqrt(d/m) (p/(nm))^-1/2: at p = n m, a quarter of n d, Lip is 3 sqrt(4) = 6.
    assert upper["prefactor_intrinsic"] == pytest.approx(6.0, rel=0.05)
    assert upper["prefactor_intrinsic_low"] < upper["prefactor_intrinsic"] < upper["prefactor_intrinsic_high"]
    in_m = np.polyfit(np.log(runs["p"] / (runs["n"] * 50.0)), np.log(runs["lip_upper"]), 1)
    assert upper["prefactor_intrinsic"] == pytest.approx(np.exp(in_m[1]), rel=1e-9)


def test_local_slopes_follow_a_curve_that_steepens_then_settles_at_minus_one_half():
    # Lip = 3 x^-1/2 (1 + x0/x): slope -1/2 - 1 / (1 + x/x0), steep near the threshold, -1/2 far from it.
    runs = synthetic_runs(-0.5, 3.0, noise=0.0)
    x0 = 0.005
    runs["lip_upper"] = 3.0 * runs["p_over_nd"] ** -0.5 * (1 + x0 / runs["p_over_nd"])
    runs["lip_lower"] = runs["lip_upper"] / 1.01
    local = local_slopes(runs, min_p_over_n=1.0, resamples=50).query("side == 'upper'")
    assert list(local["width_low"]) == [10, 20, 40, 80] and list(local["width_high"]) == [40, 80, 160, 320]
    slopes = local["slope"].to_numpy()
    assert np.all(np.diff(slopes) > 0) and slopes[0] < -0.65 and slopes[-1] == pytest.approx(-0.5, abs=0.05)
    assert local["in_window"].tolist() == [True, True, True, True] and local["below_cap"].all()
    # Noise-free seeds agree, so every resample gives the same slope.
    assert np.allclose(local["slope_low"], slopes) and np.allclose(local["slope_high"], slopes)


def test_local_slopes_skip_unfitted_runs_and_flag_windows_past_the_quadratic_cap():
    runs = synthetic_runs(-0.5, 3.0, noise=0.0).assign(family="even_ntk")
    runs.loc[runs["width"] == 20, "fitted"] = False
    cap = 200 * 201 // 2
    runs["p_eff"] = np.minimum(runs["p"] - runs["width"] * (runs["width"] - 1) // 2, cap)
    runs.loc[runs["width"] >= 200, "p_eff"] = cap
    local = local_slopes(runs, min_p_over_n=1.0, resamples=20).query("side == 'upper'")
    assert list(local["width_low"]) == [10, 40, 80] and local["below_cap"].tolist() == [True, True, False]
    assert local["slope"].to_numpy() == pytest.approx(-0.5)


def test_a_quadratic_form_on_subspace_data_is_capped_by_the_subspace_not_by_d():
    runs = synthetic_runs(-0.5, 3.0, noise=0.0).assign(family="even_ntk", distribution="subspace", d_intrinsic=20.0)
    # As fit_control records it: on a 20-dimensional subspace the forms span at most 20 * 21 / 2 = 210.
    runs["p_eff"] = [effective_parameter_count("even_ntk", 20, width) for width in runs["width"]]
    upper = law_fits(runs, min_p_over_n=1.0, resamples=20).query("side == 'upper'").iloc[0]
    assert upper["widths"] == 1 and np.isnan(upper["slope"])  # only width 10 (p_eff 155) is below the cap
    local = local_slopes(runs, min_p_over_n=1.0, resamples=20).query("side == 'upper'")
    assert not local["below_cap"].any()
