"""The measured law: power-law fits of Lip against p/(nd) with bootstrap intervals, and the frontier.

For each (dataset, model series, trainer) the fit is log Lip = a + b log(p/(nd)) by least squares
over the fitted runs inside the window where slope -1/2 can show: from p = min_p_over_n * n
(past the interpolation peak) to p/(nd) = 1/L_sep^2 (where sqrt(nd/p) meets the data floor),
and for quadratic forms only while p_eff is below its cap d(d+1)/2. Intervals come from
resampling whole seeds with replacement.
"""

import numpy as np
import pandas as pd

from .seeding import numpy_rng

SERIES_KEYS = ("dataset", "series", "trainer")
SIDES = {"upper": "lip_upper", "lower": "lip_lower"}


def series_name(family: str, depth: float | None) -> str:
    """mlp runs are told apart by depth; controls by their kind."""
    return f"mlp depth {int(depth)}" if family == "mlp" else family


def with_series(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.assign(series=[series_name(f, d) for f, d in zip(runs["family"], runs["depth"], strict=True)])


def fit_window(runs: pd.DataFrame, min_p_over_n: float) -> tuple[float, float]:
    d, l_sep = runs["d"].iloc[0], runs["l_sep"].iloc[0]
    return min_p_over_n / d, 1.0 / l_sep**2


def in_window(runs: pd.DataFrame, low: float, high: float) -> pd.Series:
    cap = runs["d"] * (runs["d"] + 1) // 2
    below_cap = (runs["family"] != "even_ntk") | (runs["p_eff"] < cap)
    return runs["fitted"] & runs["p_over_nd"].between(low, high) & below_cap


def power_law(ratio: np.ndarray, lipschitz: np.ndarray) -> tuple[float, float]:
    """(slope b, prefactor C) of Lip = C (p/(nd))^b by least squares in log-log."""
    slope, intercept = np.polyfit(np.log(ratio), np.log(lipschitz), 1)
    return float(slope), float(np.exp(intercept))


def bootstrap(points: pd.DataFrame, column: str, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(slope, prefactor) refitted on seed-resampled copies; a resample with < 2 distinct p is skipped."""
    by_seed = {seed: group for seed, group in points.groupby("seed", sort=True)}
    seeds = np.array(list(by_seed))
    fits = []
    for _ in range(resamples):
        sample = pd.concat([by_seed[seed] for seed in rng.choice(seeds, size=len(seeds))])
        if sample["p_over_nd"].nunique() >= 2:
            fits.append(power_law(sample["p_over_nd"].to_numpy(), sample[column].to_numpy()))
    return np.array(fits).reshape(-1, 2)


def law_fits(runs: pd.DataFrame, min_p_over_n: float, resamples: int) -> pd.DataFrame:
    rows = []
    for (dataset, series, trainer), group in with_series(runs).groupby(list(SERIES_KEYS), sort=True):
        low, high = fit_window(group, min_p_over_n)
        in_range = group[in_window(group, low, high)]
        for side, column in SIDES.items():
            # An infinite Lipschitz constant (a discontinuous model) has no place on a power law.
            points = in_range[np.isfinite(in_range[column])]
            row = {
                "dataset": dataset, "series": series, "trainer": trainer, "side": side,
                "n": int(group["n"].iloc[0]), "d": int(group["d"].iloc[0]), "l_sep": float(group["l_sep"].iloc[0]),
                "window_low": low, "window_high": high,
                "span_low": points["p_over_nd"].min(), "span_high": points["p_over_nd"].max(), "points": len(points),
                "widths": int(points["width"].nunique()), "seeds": int(points["seed"].nunique()),
                "slope": np.nan, "slope_low": np.nan, "slope_high": np.nan,
                "prefactor": np.nan, "prefactor_low": np.nan, "prefactor_high": np.nan,
            }  # fmt: skip
            if points["p_over_nd"].nunique() >= 2:
                row["slope"], row["prefactor"] = power_law(points["p_over_nd"].to_numpy(), points[column].to_numpy())
                if points["seed"].nunique() >= 2:
                    rng = numpy_rng("law_fit", dataset, series, trainer, side)
                    fits = bootstrap(points, column, resamples, rng)
                    row["slope_low"], row["slope_high"] = np.percentile(fits[:, 0], [2.5, 97.5])
                    row["prefactor_low"], row["prefactor_high"] = np.percentile(fits[:, 1], [2.5, 97.5])
            rows.append(row)
    return pd.DataFrame(rows)


def frontier(runs: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and p, the smallest finite certified upper bound among fitted models of any trainer."""
    fitted = with_series(runs[runs["fitted"] & np.isfinite(runs["lip_upper"])])
    best = fitted.sort_values(["dataset", "p", "lip_upper", "model", "trainer", "seed"], kind="stable")
    best = best.groupby(["dataset", "p"], sort=True).head(1)
    columns = ["dataset", "distribution", "labels", "n", "d", "p", "p_over_nd", "series", "model", "trainer", "seed"]
    columns += ["lip_upper", "lip_lower"]
    return best[columns + ["law_sqrt_nd_over_p", "l_sep"]].reset_index(drop=True)
