"""The column dictionaries of the Parquet tables: name -> (unit, meaning), in column order.

Written into each file's schema metadata, so a table explains itself without this repository.
"""

NONE = "-"
LOWER_METHODS = ("sampled_gradient", "certified_search", "training_secant", "branch_and_bound", "pattern_pursuit")
UPPER_METHODS = (
    "spectral_product", "liplt", "lipsdp", "pattern_enumeration", "branch_and_bound", "eigenvalue", "path_norm",
    "discontinuity",
)  # fmt: skip

RUN_COLUMNS: dict[str, tuple[str, str]] = {
    "dataset": (NONE, "dataset id: distribution, n, d, labels (with label-noise fraction q for real data), data seed"),
    "model": (NONE, "model id: activation and depth, or control kind, and width k"),
    "trainer": (NONE, "trainer id from the config; closed_form for the controls"),
    "seed": (NONE, "initialisation seed (controls: seed of the random features)"),
    "distribution": (NONE, "input distribution: sphere, gaussian, hypercube, subspace, or real data: digits, mnist"),
    "components": (NONE, "mixture components (1 = no mixture)"),
    "labels": (NONE, "label model: random_sign, teacher, or even_odd (real data)"),
    "n": ("points", "training points"),
    "n_test": ("points", "held-out test points"),
    "d": ("dimensions", "input dimension"),
    "sigma": (NONE, "label noise level: teacher sigma, 1 for random_sign, sqrt(q(2 - q)) for real data"),
    "sigma2": ("label^2", "noise level sigma^2 = E Var(y | x)"),
    "eps": ("label^2", "fit margin from the config: a model fits when train_mse <= sigma2 - eps"),
    "data_seed": (NONE, "seed of the data draw"),
    "family": (NONE, "mlp, or the control: even_ntk, relu_ntk, random_features"),
    "activation": (NONE, "activation of an mlp (null for controls)"),
    "depth": ("layers", "weight matrices of an mlp (null for controls)"),
    "width": ("units", "hidden width k (controls: number of random features)"),
    "p": ("parameters", "exact number of trained parameters"),
    "p_eff": ("parameters", "dimension of the function space reached on the data's span (p except for even_ntk)"),
    "method": (NONE, "training method: plain, weight_decay, gradient_penalty, adversarial, closed_form"),
    "optimizer": (NONE, "full-batch optimiser"),
    "learning_rate": (NONE, "optimiser step size"),
    "max_steps": ("steps", "step budget"),
    "strength": (NONE, "initial penalty weight lambda (smoothness-seeking methods)"),
    "smooth_steps": ("steps", "steps after the first fit spent lowering the penalty"),
    "radius": ("input norm", "adversarial L2 radius"),
    "target_mse": ("label^2", "fit criterion sigma2 - eps"),
    "train_mse": ("label^2", "final training mean squared error"),
    "test_mse": ("label^2", "mean squared error on the held-out points"),
    "eps_achieved": ("label^2", "sigma2 - train_mse"),
    "fitted": (NONE, "train_mse <= target_mse"),
    "status": (NONE, "fitted, max_steps, stalled (the trainer's stall rule), diverged or not_interpolating"),
    "diverged": (NONE, "training met a non-finite loss"),
    "steps": ("steps", "optimiser steps taken"),
    "selected_step": ("steps", "step whose weights were kept"),
    "penalty": (NONE, "the trainer's penalty R at the selected step"),
    "lip_lower": ("label / input norm", "certified lower bound of Lip(f) on lip_domain"),
    "lip_lower_method": (NONE, "method that gave lip_lower"),
    "lip_upper": ("label / input norm", "certified upper bound of Lip(f) on lip_domain"),
    "lip_upper_method": (NONE, "method that gave lip_upper"),
    "lip_ratio": (NONE, "lip_upper / lip_lower"),
    "lip_exact": ("label / input norm", "exact Lip(f) where computable, else null"),
    "lip_domain": (NONE, "domain of the bracket: R^d, or unit ball for the NTK controls"),
    **{f"lip_lower_{name}": ("label / input norm", f"lower bound by {name}") for name in LOWER_METHODS},
    **{f"lip_upper_{name}": ("label / input norm", f"upper bound by {name}, null where it does not apply")
       for name in UPPER_METHODS},
    "l_sep": ("label / input norm", "data floor: smallest Lipschitz constant of any interpolant of the training data"),
    "p_over_nd": (NONE, "p / (n d)"),
    "law_sqrt_nd_over_p": (NONE, "sqrt(n d / p), the law's scaling with prefactor 1"),
    "d_intrinsic": ("dimensions", "dimension of isoperimetry used for the law: intrinsic_dim m for subspace data, "
                    "d for the other synthetic data, d_mle for real data"),
    "d_pca90": ("dimensions", "principal components holding 90% of the training inputs' variance"),
    "d_mle": ("dimensions", "Levina-Bickel maximum-likelihood intrinsic dimension of the training inputs "
              "(m - 1 for the sphere of an m-dimensional subspace)"),
    "d_mle_neighbours": ("points", "neighbourhood size k of d_mle"),
    "p_over_nd_intrinsic": (NONE, "p / (n d_intrinsic)"),
    "law_sqrt_nd_intrinsic_over_p": (NONE, "sqrt(n d_intrinsic / p), the law's scaling in the intrinsic dimension"),
}  # fmt: skip

LAW_FIT_COLUMNS: dict[str, tuple[str, str]] = {
    "dataset": (NONE, "dataset id"),
    "series": (NONE, "mlp depth D, or the control kind"),
    "trainer": (NONE, "trainer id"),
    "side": (NONE, "which end of the bracket was fitted: upper or lower"),
    "n": ("points", "training points"),
    "d": ("dimensions", "input dimension"),
    "l_sep": ("label / input norm", "data floor"),
    "window_low": (NONE, "smallest p/(nd) of the fit window (min_p_over_n / d)"),
    "window_high": (NONE, "largest p/(nd) of the fit window (1 / l_sep^2)"),
    "span_low": (NONE, "smallest p/(nd) among the fitted points"),
    "span_high": (NONE, "largest p/(nd) among the fitted points"),
    "points": ("runs", "fitted runs inside the window"),
    "widths": (NONE, "distinct widths inside the window"),
    "seeds": (NONE, "distinct seeds inside the window"),
    "slope": (NONE, "b in log Lip = log C + b log(p/(nd)); the law predicts -1/2"),
    "slope_low": (NONE, "2.5% bootstrap percentile of the slope (seeds resampled)"),
    "slope_high": (NONE, "97.5% bootstrap percentile of the slope"),
    "prefactor": ("label / input norm", "C in Lip = C (p/(nd))^b"),
    "prefactor_low": ("label / input norm", "2.5% bootstrap percentile of C"),
    "prefactor_high": ("label / input norm", "97.5% bootstrap percentile of C"),
    "d_intrinsic": ("dimensions", "the series' d_intrinsic (runs.parquet)"),
    "prefactor_intrinsic": ("label / input norm", "C' in Lip = C' (p/(n d_intrinsic))^b, the same fit (and slope) "
                            "against p/(n d_intrinsic): the fitted Lip at p = n d_intrinsic, as C is at p = n d"),
    "prefactor_intrinsic_low": ("label / input norm", "2.5% bootstrap percentile of C'"),
    "prefactor_intrinsic_high": ("label / input norm", "97.5% bootstrap percentile of C'"),
}  # fmt: skip

LOCAL_SLOPE_COLUMNS: dict[str, tuple[str, str]] = {
    "dataset": (NONE, "dataset id"),
    "series": (NONE, "mlp depth D, or the control kind"),
    "trainer": (NONE, "trainer id"),
    "side": (NONE, "which end of the bracket was fitted: upper or lower"),
    "n": ("points", "training points"),
    "d": ("dimensions", "input dimension"),
    "d_intrinsic": ("dimensions", "the series' d_intrinsic"),
    "width_low": ("units", "smallest width of the local window (neighbouring widths with fitted runs)"),
    "width_high": ("units", "largest width of the local window"),
    "p_low": ("parameters", "p of width_low"),
    "p_high": ("parameters", "p of width_high"),
    "p_over_nd_low": (NONE, "p/(nd) of width_low"),
    "p_over_nd_high": (NONE, "p/(nd) of width_high"),
    "p_over_nd_centre": (NONE, "geometric mean of p_over_nd_low and p_over_nd_high, where the slope is read"),
    "p_eff_high": ("parameters", "p_eff of width_high"),
    "below_cap": (
        NONE,
        "every width of the window has p_eff below m(m+1)/2, m = d or the subspace's dimension "
        "(always true but for even_ntk)",
    ),
    "in_window": (NONE, "the whole local window lies inside law_fit.parquet's fit window"),
    "points": ("runs", "fitted runs with a finite bound in the local window"),
    "seeds": (NONE, "distinct seeds among them"),
    "slope": (NONE, "least-squares b of log Lip on log(p/(nd)) over the local window; the law predicts -1/2"),
    "slope_low": (NONE, "2.5% bootstrap percentile of the local slope (seeds resampled)"),
    "slope_high": (NONE, "97.5% bootstrap percentile of the local slope"),
}

FRONTIER_COLUMNS: dict[str, tuple[str, str]] = {
    "dataset": (NONE, "dataset id"),
    "distribution": (NONE, "input distribution"),
    "labels": (NONE, "label model"),
    "n": ("points", "training points"),
    "d": ("dimensions", "input dimension"),
    "p": ("parameters", "parameter count"),
    "p_over_nd": (NONE, "p / (n d)"),
    "series": (NONE, "model series of the best model"),
    "model": (NONE, "model id of the best model"),
    "trainer": (NONE, "trainer of the best model"),
    "seed": (NONE, "seed of the best model"),
    "lip_upper": ("label / input norm", "the smallest certified upper bound among fitted models at this p"),
    "lip_lower": ("label / input norm", "that model's certified lower bound"),
    "law_sqrt_nd_over_p": (NONE, "sqrt(n d / p)"),
    "l_sep": ("label / input norm", "data floor"),
}

ROBUSTNESS_COLUMNS: dict[str, tuple[str, str]] = {
    "dataset": (NONE, "dataset id"),
    "model": (NONE, "model id"),
    "trainer": (NONE, "trainer id; closed_form for the controls"),
    "seed": (NONE, "initialisation seed"),
    "split": (
        NONE,
        "train: the training points, scored against their (noisy) training labels; test: the held-out points, "
        "scored against theirs (real data: even/odd digit parity up to the label noise; for random_sign labels "
        "the test labels are independent of the inputs, so test accuracy is chance, 0.5, by construction)",
    ),
    "radius": ("input norm", "L2 radius r of the perturbations (inputs have norm about 1)"),
    "clean_accuracy": (NONE, "share of the split's points where sign(f(x)) equals the label's sign"),
    "certified_accuracy": (
        NONE,
        "share with the right sign and |f(x)| > r L, L a certified upper bound of Lip(f) on a set holding the "
        "ball B(x, r) (lip_upper; for brackets on the unit ball, the constant on the ball of radius ||x|| + r): "
        "a lower bound of the accuracy under any perturbation of norm <= r",
    ),
    "attacked_accuracy": (
        NONE,
        "share whose sign survives the attack at radius r (a minimum-norm boundary search for all radii, then "
        "PGD-L2 at r for the points still open; exact for a quadratic form): an upper bound of the same "
        "accuracy; certified_accuracy <= attacked_accuracy on every row",
    ),
}
