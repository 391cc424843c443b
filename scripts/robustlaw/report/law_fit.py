"""The measured law: power-law fits of Lip against p/(nd) with bootstrap intervals, and the frontier.

For each (dataset, model series, trainer) the fit is log Lip = a + b log(p/(nd)) by least squares
over the fitted runs inside the window where slope -1/2 can show: from p = min_p_over_n * n
(past the interpolation peak) to p/(nd) = 1/L_sep^2 (where sqrt(nd/p) meets the data floor),
and for quadratic forms only while p_eff is below its cap m(m+1)/2 (m = d, or the subspace's
dimension for subspace data). Intervals come from
resampling whole seeds with replacement. The same fit against p/(n d_intrinsic) has the same
slope and the prefactor C' = C (d_intrinsic/d)^b: the fitted Lip at p = n d_intrinsic.

Local slopes (local_slopes) fit each window of three neighbouring widths alone, so a reader
sees whether the slope converges as p grows or depends on where the window starts.
"""

import numpy as np
import pandas as pd

from robustlaw.results.columns import LOCAL_SLOPE_COLUMNS
from robustlaw.seeding import numpy_rng

# Neighbouring widths per local slope: two are noisy, three smooth over one width's noise.
LOCAL_WIDTHS = 3
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


def below_cap(runs: pd.DataFrame) -> pd.Series:
    """False for a quadratic form whose p_eff has reached m(m+1)/2, m the dimension of the data's
    linear span: the subspace's for subspace data, d for all others."""
    span = np.where(runs["distribution"] == "subspace", runs["d_intrinsic"], runs["d"])
    return (runs["family"] != "even_ntk") | (runs["p_eff"] < span * (span + 1) // 2)


def in_window(runs: pd.DataFrame, low: float, high: float) -> pd.Series:
    return runs["fitted"] & runs["p_over_nd"].between(low, high) & below_cap(runs)


def power_law(ratio: np.ndarray, lipschitz: np.ndarray) -> tuple[float, float]:
    """(slope b, prefactor C) of Lip = C (p/(nd))^b by least squares in log-log."""
    slope, intercept = np.polyfit(np.log(ratio), np.log(lipschitz), 1)
    return float(slope), float(np.exp(intercept))


def bootstrap(points: pd.DataFrame, column: str, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(slope, prefactor) refitted on seed-resampled copies; a resample with < 2 distinct p is skipped.

    Every resample at once: a resample is a multiset of seeds, so its least-squares line in log-log
    follows from each seed's sums (count, sum x, sum y, sum x^2, sum xy) weighted by how often it
    was drawn. The draws are those of one rng.choice per resample, in order.
    """
    seeds = [part for _, part in points.groupby("seed", sort=True)]
    logs = [(np.log(part["p_over_nd"].to_numpy()), np.log(part[column].to_numpy())) for part in seeds]
    sums = np.array([[len(x), x.sum(), y.sum(), (x * x).sum(), (x * y).sum()] for x, y in logs])
    ratios = np.unique(points["p_over_nd"].to_numpy())
    holds = np.array([np.isin(ratios, part["p_over_nd"].to_numpy()) for part in seeds])
    draws = rng.choice(len(seeds), size=(resamples, len(seeds)))
    multiplicity = np.zeros((resamples, len(seeds)))
    np.add.at(multiplicity, (np.arange(resamples)[:, None], draws), 1.0)
    count, sum_x, sum_y, sum_xx, sum_xy = (multiplicity @ sums).T
    distinct = ((multiplicity > 0).astype(float) @ holds > 0).sum(axis=1)
    kept = distinct >= 2
    count, sum_x, sum_y, sum_xx, sum_xy = (values[kept] for values in (count, sum_x, sum_y, sum_xx, sum_xy))
    slope = (count * sum_xy - sum_x * sum_y) / (count * sum_xx - sum_x**2)
    intercept = (sum_y - slope * sum_x) / count
    return np.column_stack([slope, np.exp(intercept)])


def law_fits(runs: pd.DataFrame, min_p_over_n: float, resamples: int) -> pd.DataFrame:
    rows = []
    for (dataset, series, trainer), group in with_series(runs).groupby(list(SERIES_KEYS), sort=True):
        low, high = fit_window(group, min_p_over_n)
        in_range = group[in_window(group, low, high)]
        d_intrinsic = float(group["d_intrinsic"].iloc[0])
        scale = d_intrinsic / group["d"].iloc[0]
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
                "d_intrinsic": d_intrinsic,
                "prefactor_intrinsic": np.nan, "prefactor_intrinsic_low": np.nan, "prefactor_intrinsic_high": np.nan,
            }  # fmt: skip
            if points["p_over_nd"].nunique() >= 2:
                row["slope"], row["prefactor"] = power_law(points["p_over_nd"].to_numpy(), points[column].to_numpy())
                row["prefactor_intrinsic"] = intrinsic_prefactor(row["prefactor"], row["slope"], scale)
                if points["seed"].nunique() >= 2:
                    rng = numpy_rng("law_fit", dataset, series, trainer, side)
                    fits = bootstrap(points, column, resamples, rng)
                    row["slope_low"], row["slope_high"] = np.percentile(fits[:, 0], [2.5, 97.5])
                    row["prefactor_low"], row["prefactor_high"] = np.percentile(fits[:, 1], [2.5, 97.5])
                    rescaled = intrinsic_prefactor(fits[:, 1], fits[:, 0], scale)
                    interval = np.percentile(rescaled, [2.5, 97.5])
                    row["prefactor_intrinsic_low"], row["prefactor_intrinsic_high"] = interval
            rows.append(row)
    return pd.DataFrame(rows)


def intrinsic_prefactor(prefactor, slope, scale: float):
    """C' of the same fit against p/(n d_intrinsic): C (p/(nd))^b = C (d_intrinsic/d)^b (p/(n d_intrinsic))^b."""
    return prefactor * scale**slope


def local_windows(points: pd.DataFrame, size: int = LOCAL_WIDTHS) -> list[pd.DataFrame]:
    """The runs of every run of `size` neighbouring widths (by p), or of all of them when there are fewer."""
    ps = sorted(points["p"].unique())
    if len(ps) < 2:
        return []
    starts = range(max(1, len(ps) - size + 1))
    return [points[points["p"].isin(ps[start : start + size])] for start in starts]


def local_slopes(runs: pd.DataFrame, min_p_over_n: float, resamples: int) -> pd.DataFrame:
    """The slope over each window of LOCAL_WIDTHS neighbouring widths, per series and side, with
    bootstrap intervals over seeds: whether the slope settles as p grows, or depends on where the
    fit window starts. Every fitted width counts; in_window and below_cap say which slopes the law
    speaks of."""
    rows = []
    for (dataset, series, trainer), group in with_series(runs).groupby(list(SERIES_KEYS), sort=True):
        low, high = fit_window(group, min_p_over_n)
        group = group.assign(inside=in_window(group, low, high), below_cap=below_cap(group))
        for side, column in SIDES.items():
            points = group[group["fitted"] & np.isfinite(group[column])]
            for window in local_windows(points):
                first, last = window.loc[window["p"].idxmin()], window.loc[window["p"].idxmax()]
                ratio_low, ratio_high = float(first["p_over_nd"]), float(last["p_over_nd"])
                row = {
                    "dataset": dataset, "series": series, "trainer": trainer, "side": side,
                    "n": int(group["n"].iloc[0]), "d": int(group["d"].iloc[0]),
                    "d_intrinsic": float(group["d_intrinsic"].iloc[0]),
                    "width_low": int(first["width"]), "width_high": int(last["width"]),
                    "p_low": int(first["p"]), "p_high": int(last["p"]),
                    "p_over_nd_low": ratio_low, "p_over_nd_high": ratio_high,
                    "p_over_nd_centre": float(np.sqrt(ratio_low * ratio_high)),
                    "p_eff_high": int(last["p_eff"]), "below_cap": bool(window["below_cap"].all()),
                    "in_window": bool(window["inside"].all()), "points": len(window),
                    "seeds": int(window["seed"].nunique()),
                    "slope": power_law(window["p_over_nd"].to_numpy(), window[column].to_numpy())[0],
                    "slope_low": np.nan, "slope_high": np.nan,
                }  # fmt: skip
                if row["seeds"] >= 2:
                    rng = numpy_rng("local_slope", dataset, series, trainer, side, row["width_low"])
                    fits = bootstrap(window, column, resamples, rng)
                    row["slope_low"], row["slope_high"] = np.percentile(fits[:, 0], [2.5, 97.5])
                rows.append(row)
    return pd.DataFrame(rows, columns=list(LOCAL_SLOPE_COLUMNS))


def frontier(runs: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and p, the smallest finite certified upper bound among fitted models of any trainer."""
    fitted = with_series(runs[runs["fitted"] & np.isfinite(runs["lip_upper"])])
    best = fitted.sort_values(["dataset", "p", "lip_upper", "model", "trainer", "seed"], kind="stable")
    best = best.groupby(["dataset", "p"], sort=True).head(1)
    columns = ["dataset", "distribution", "labels", "n", "d", "p", "p_over_nd", "series", "model", "trainer", "seed"]
    columns += ["lip_upper", "lip_lower"]
    return best[columns + ["law_sqrt_nd_over_p", "l_sep"]].reset_index(drop=True)
