"""Time-invariant covariates for the Pareto/NBD and BG/NBD purchase models.

Parameterised as in Fader & Hardie (2007), "Incorporating time-invariant
covariates into the Pareto/NBD and BG/NBD models", and exactly as the R
package CLVTools does, so that estimates compare one to one. With a
customer's purchase covariates ``z_p`` and dropout covariates ``z_d``:

* Pareto/NBD: ``alpha_i = alpha0 * exp(-gamma_purchase' z_p)`` and
  ``beta_i = beta0 * exp(-gamma_dropout' z_d)``; ``r`` and ``s`` are shared.
  A positive purchase coefficient raises the mean purchase rate
  ``r / alpha_i``, a positive dropout coefficient the mean dropout rate
  ``s / beta_i``.
* BG/NBD: ``alpha_i = alpha0 * exp(-gamma_purchase' z_p)``,
  ``a_i = a0 * exp(gamma_dropout' z_d)`` and ``b_i = b0 * exp(gamma_dropout'
  z_d)``; ``r`` is shared (the mean dropout probability ``a_i / (a_i +
  b_i)`` is unchanged, the beta distribution's concentration varies).

Categorical (non-numeric) columns are one-hot encoded; the reference level
(no dummy) is the first category of a pandas ``Categorical`` and otherwise
the smallest value in sorted order; dummies are named ``column[level]``.

The fit collapses identical ``(x, t_x, T, z)`` rows to weighted rows in a
canonical order (row-order independent), groups the rows by their covariate
vector and sums the plain model's analytic objective over the groups (the
gradient wrt the coefficients follows by the chain rule). Its cost grows
with the number of distinct covariate vectors: suited to categorical and
few-valued covariates.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from crmkit.exceptions import ConvergenceError, ConvergenceWarning, SchemaError, SchemaFailure
from crmkit.value._canonical import canonical_rows
from crmkit.value._rows import unique_rows

__all__ = [
    "CovariateDesign",
    "Encoding",
    "check_identified",
    "design_matrix",
    "fit_covariates",
    "full_design",
    "group_apply",
    "store_fit",
    "unique_rows",
]

FloatArray = npt.NDArray[np.float64]
GroupObjective = Callable[[FloatArray], tuple[float, FloatArray]]


@attrs.frozen
class Encoding:
    """How one view column becomes columns of the design matrix.

    Parameters
    ----------
    column : str
        The view column.
    levels : tuple of str or None
        None for a numeric column (used as is); for a categorical one, all
        levels, the first being the reference level (no dummy).

    Examples
    --------
    >>> Encoding("channel", ("shop", "online")).names()
    ('channel[online]',)
    """

    column: str
    levels: tuple[str, ...] | None = None

    def names(self) -> tuple[str, ...]:
        """Names of the design columns this column gives."""
        if self.levels is None:
            return (self.column,)
        return tuple(f"{self.column}[{lv}]" for lv in self.levels[1:])


@attrs.frozen
class CovariateDesign:
    """The covariates of a fitted model: encodings of both processes.

    Parameters
    ----------
    purchase : tuple of Encoding
        Columns acting on the purchase process.
    dropout : tuple of Encoding
        Columns acting on the dropout process.
    labels : tuple of str, default=("purchase", "dropout")
        Prefixes of the two groups' coefficient names (Gamma-Gamma uses
        ``("spend", "")`` with no second group).
    shared : tuple of Encoding, default=()
        Columns acting on both processes with one coefficient (CLVTools'
        constrained covariates), named ``shared.<column>``.

    Examples
    --------
    >>> d = CovariateDesign((Encoding("gender"),), (Encoding("gender"), Encoding("age")))
    >>> d.coefficient_names()
    ('purchase.gender', 'dropout.gender', 'dropout.age')
    """

    purchase: tuple[Encoding, ...]
    dropout: tuple[Encoding, ...]
    labels: tuple[str, str] = ("purchase", "dropout")
    shared: tuple[Encoding, ...] = ()

    def sizes(self) -> tuple[int, int, int]:
        """Numbers of purchase, dropout and shared coefficients."""
        return (
            sum(len(e.names()) for e in self.purchase),
            sum(len(e.names()) for e in self.dropout),
            sum(len(e.names()) for e in self.shared),
        )

    def coefficient_names(self) -> tuple[str, ...]:
        """``purchase.<name>`` then ``dropout.<name>``, in coefficient order."""
        first, second = self.labels
        return (
            tuple(f"{first}.{n}" for e in self.purchase for n in e.names())
            + tuple(f"{second}.{n}" for e in self.dropout for n in e.names())
            + tuple(f"shared.{n}" for e in self.shared for n in e.names())
        )

    def to_state(self) -> dict[str, Any]:
        """Plain values for persistence."""
        state: dict[str, Any] = {
            side: [[e.column, None if e.levels is None else list(e.levels)] for e in encs]
            for side, encs in (
                ("purchase", self.purchase),
                ("dropout", self.dropout),
                ("shared", self.shared),
            )
        }
        state["labels"] = list(self.labels)
        return state

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> CovariateDesign:
        """Inverse of :meth:`to_state`."""

        def encs(items: Sequence[Any]) -> tuple[Encoding, ...]:
            return tuple(
                Encoding(str(c), None if lv is None else tuple(str(v) for v in lv))
                for c, lv in items
            )

        first, second = (str(v) for v in state.get("labels", ("purchase", "dropout")))
        return cls(
            encs(state["purchase"]),
            encs(state["dropout"]),
            (first, second),
            encs(state.get("shared", [])),
        )


def _column(view: Any, column: str, who: str) -> pd.Series:
    if isinstance(view, pd.DataFrame):
        if column not in view.columns:
            raise SchemaError(
                [SchemaFailure(frame="view", column=column, check=f"is missing ({who})")]
            )
        out: pd.Series = view[column]
        return out
    if column not in view:
        raise SchemaError([SchemaFailure(frame="view", column=column, check=f"is missing ({who})")])
    series: pd.Series = pd.Series(np.asarray(view[column]))
    return series


def _labels(view: Any, mask: npt.NDArray[np.bool_]) -> tuple[Any, ...]:
    index = view.index if isinstance(view, pd.DataFrame) else pd.RangeIndex(len(mask))
    return tuple(np.asarray(index, dtype=object)[mask][:5].tolist())


def encode_column(view: Any, column: str, who: str) -> Encoding:
    """Decide the encoding of ``column`` from the data (at fit time)."""
    s = _column(view, column, who)
    missing = np.asarray(s.isna())
    if missing.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column=column,
                    check=f"has missing covariate values ({who})",
                    n_failing=int(missing.sum()),
                    rows=_labels(view, missing),
                )
            ]
        )
    if pd.api.types.is_bool_dtype(s) or (
        pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype)
    ):
        return Encoding(column)
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s.astype(str))
        levels = tuple(str(c) for c in s.cat.categories if str(c) in present)
    else:
        levels = tuple(sorted(set(s.astype(str))))
    return Encoding(column, levels)


def _encode(view: Any, enc: Encoding, who: str) -> FloatArray:
    s = _column(view, enc.column, who)
    if enc.levels is None:
        try:
            values = np.asarray(s, dtype=np.float64)
        except (TypeError, ValueError):
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view",
                        column=enc.column,
                        check=f"must be numeric, as at fit time ({who})",
                    )
                ]
            ) from None
        bad = ~np.isfinite(values)
        if bad.any():
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view",
                        column=enc.column,
                        check=f"has missing or infinite covariate values ({who})",
                        n_failing=int(bad.sum()),
                        rows=_labels(view, bad),
                    )
                ]
            )
        return values.reshape(-1, 1)
    text = np.asarray(s.astype(str), dtype=object)
    unknown = ~np.isin(text, np.asarray(enc.levels, dtype=object))
    if unknown.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column=enc.column,
                    check=(
                        f"has levels not seen at fit time (known: {', '.join(enc.levels)}) ({who})"
                    ),
                    n_failing=int(unknown.sum()),
                    rows=_labels(view, unknown),
                    values=tuple(text[unknown][:5].tolist()),
                )
            ]
        )
    return np.stack([(text == lv).astype(np.float64) for lv in enc.levels[1:]], axis=1)


def design_matrix(view: Any, encodings: Sequence[Encoding], who: str) -> FloatArray:
    """The design matrix of ``encodings`` on ``view``, shape ``(n_customers, n_columns)``.

    Parameters
    ----------
    view : DataFrame or mapping of str to array-like
        The customer view.
    encodings : sequence of Encoding
        The columns and their encodings.
    who : str
        The calling method, for error messages.

    Returns
    -------
    ndarray of shape (n_customers, n_columns)

    Raises
    ------
    SchemaError
        For a missing column, missing values or an unknown level.

    Examples
    --------
    >>> view = {"channel": ["shop", "online", "shop"], "age": [30, 40, 50]}
    >>> design_matrix(view, [Encoding("channel", ("shop", "online")), Encoding("age")], "doc")
    array([[ 0., 30.],
           [ 1., 40.],
           [ 0., 50.]])
    """
    if not encodings:
        n = len(next(iter(view.values()))) if not isinstance(view, pd.DataFrame) else len(view)
        return np.zeros((n, 0))
    return np.concatenate([_encode(view, e, who) for e in encodings], axis=1)


def check_identified(encodings: Sequence[Encoding], z: FloatArray, side: str, who: str) -> None:
    """Refuse a constant design column: its coefficient cannot be identified."""
    names = [n for e in encodings for n in e.names()]
    for j, name in enumerate(names):
        if len(z) and np.all(z[:, j] == z[0, j]):
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view",
                        column=name,
                        check=f"is constant ({z[0, j]:g} for all {len(z)} customers): its "
                        f"{side} coefficient cannot be identified ({who})",
                    )
                ]
            )


def make_design(model: Any, view: Any, who: str) -> CovariateDesign:
    """Encodings of the model's purchase, dropout and shared covariates."""
    sides = []
    for name in ("purchase_covariates", "dropout_covariates", "shared_covariates"):
        cols = list(getattr(model, name, None) or [])
        sides.append(tuple(encode_column(view, str(c), who) for c in cols))
    return CovariateDesign(sides[0], sides[1], shared=sides[2])


def full_design(view: Any, design: CovariateDesign, who: str) -> FloatArray:
    """``[z_purchase | z_dropout | z_shared]``, shape ``(n_customers, n_coefficients)``."""
    return np.concatenate(
        [
            design_matrix(view, design.purchase, who),
            design_matrix(view, design.dropout, who),
            design_matrix(view, design.shared, who),
        ],
        axis=1,
    )


# ------------------------------------------------------------------ per-customer parameters
def _linear(
    coef: FloatArray, z: FloatArray, sizes: tuple[int, int, int]
) -> tuple[FloatArray, FloatArray]:
    """The purchase and dropout linear predictors (shared columns in both)."""
    kp, kd, _ = sizes
    shared = z[:, kp + kd :] @ coef[kp + kd :]
    return z[:, :kp] @ coef[:kp] + shared, z[:, kp : kp + kd] @ coef[kp : kp + kd] + shared


def customer_params(
    kind: str, base: FloatArray, coef: FloatArray, z: FloatArray, sizes: tuple[int, int, int]
) -> FloatArray:
    """Log-parameters of each row, shape ``(n, 4)``, from base parameters and coefficients.

    ``kind`` is ``"pnbd"`` (alpha and beta scaled) or ``"bgnbd"`` (alpha, a
    and b scaled), see the module docstring; ``z`` is :func:`full_design`.
    """
    lp = np.tile(np.log(base), (len(z), 1))
    eta_p, eta = _linear(coef, z, sizes)
    lp[:, 1] -= eta_p
    if kind == "pnbd":
        lp[:, 3] -= eta
    else:
        lp[:, 2] += eta
        lp[:, 3] += eta
    return lp


def _chain(kind: str, g: FloatArray, z: FloatArray, sizes: tuple[int, int, int]) -> FloatArray:
    """Gradient wrt (log base, coefficients) from a group's gradient wrt its log-parameters."""
    kp, kd, _ = sizes
    d_purchase = -g[1]
    d_dropout = -g[3] if kind == "pnbd" else g[2] + g[3]
    both = d_purchase + d_dropout
    return np.concatenate(
        [g, d_purchase * z[:kp], d_dropout * z[kp : kp + kd], both * z[kp + kd :]]
    )


def group_apply(
    model: Any,
    view: Any,
    who: str,
    fn: Callable[..., FloatArray],
    *args: Any,
) -> tuple[FloatArray, pd.Index]:
    """Evaluate ``fn(params, x, tx, T, *args)`` with each customer's own parameters.

    Customers are grouped by their covariate vector; ``args`` (scalars or
    one value per customer) are split alike.
    """
    data, _, index = model._read(view, who)
    design: CovariateDesign = model.covariates_
    z = full_design(view, design, f"{type(model).__name__}.{who}")
    n = len(index)
    out = np.empty(n)
    if n == 0:
        return out, index
    uz, inv = unique_rows(z)
    lp = customer_params(
        model._kind, model._param_array(), np.asarray(model.coef_), uz, design.sizes()
    )
    full = [np.broadcast_to(np.asarray(a, dtype=np.float64), (n,)) for a in args]
    for g in range(len(uz)):
        rows = np.flatnonzero(inv == g)
        out[rows] = fn(np.exp(lp[g]), *(d[rows] for d in data), *(a[rows] for a in full))
    return out, index


# ------------------------------------------------------------------ fitting
def _hessian(f: GroupObjective, theta: FloatArray) -> FloatArray:
    """Central differences of the analytic gradient, symmetrised."""
    k = len(theta)
    hess = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * max(1.0, abs(float(theta[j])))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        hess[:, j] = (f(up)[1] - f(down)[1]) / (2.0 * h)
    return np.asarray(0.5 * (hess + hess.T), dtype=np.float64)


def fit_covariates(
    model: Any,
    view: Any,
    weights: Any,
    make_objective: Callable[[tuple[FloatArray, ...], FloatArray], GroupObjective],
) -> None:
    """Fit ``model`` (a purchase model with covariates) by maximum likelihood.

    Starts from the plain model's estimates with all coefficients 0 (so the
    log-likelihood is at least the plain model's), runs BFGS on
    ``(log base parameters, coefficients)`` with the analytic gradient and
    takes standard errors from the observed information (central
    differences of the gradient). Sets the fitted attributes.
    """
    who = f"{type(model).__name__}.fit"
    data, w, _ = model._read(view, "fit", weights=weights)
    design = make_design(model, view, who)
    sizes = design.sizes()
    z_all = full_design(view, design, who)
    kp, kd, ks = sizes
    check_identified(design.purchase, z_all[:, :kp], "purchase", who)
    check_identified(design.dropout, z_all[:, kp : kp + kd], "dropout", who)
    check_identified(design.shared, z_all[:, kp + kd :], "shared", who)
    plain = type(model)(penalizer=model.penalizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain.fit(dict(zip(model._columns, data, strict=True)), weights=w)
    cols, cw = canonical_rows([*data, *z_all.T], w)
    z = np.stack(cols[3:], axis=1) if kp + kd + ks else np.zeros((len(cw), 0))
    uz, inv = unique_rows(z)
    groups = []
    for g in range(len(uz)):
        rows = np.flatnonzero(inv == g)
        groups.append(make_objective(tuple(c[rows] for c in cols[:3]), cw[rows]))
    penalizer = float(model.penalizer)
    kind = model._kind

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        base = np.exp(theta[:4])
        lp = customer_params(kind, base, theta[4:], uz, sizes)
        total, grad = 0.0, np.zeros(len(theta))
        for g, obj in enumerate(groups):
            f, gg = obj(lp[g])
            total += float(f)
            grad += _chain(kind, np.asarray(gg, dtype=np.float64), uz[g], sizes)
        if penalizer:
            total += penalizer * float(np.sum(base**2) + np.sum(theta[4:] ** 2))
            grad[:4] += 2.0 * penalizer * base**2
            grad[4:] += 2.0 * penalizer * theta[4:]
        return total, grad

    theta0 = np.concatenate([np.log(plain._param_array()), np.zeros(kp + kd + ks)])
    store_fit(model, design, objective, theta0, 4, float(cw.sum()), penalizer, who)


def store_fit(
    model: Any,
    design: CovariateDesign,
    objective: GroupObjective,
    theta0: FloatArray,
    n_base: int,
    n_customers: float,
    penalizer: float,
    who: str,
) -> None:
    """Maximise the likelihood from ``theta0`` and set the model's fitted attributes.

    ``theta`` is ``(log base parameters, coefficients)``; the penalty (already
    in ``objective``) is ``penalizer * (sum(base**2) + sum(coef**2))``.
    BFGS with the analytic gradient is finished by Newton steps on a
    Hessian from central differences of the gradient, whose inverse (at
    the final estimates) gives the covariance (natural scale for the base
    parameters).
    """
    with np.errstate(all="ignore"):
        res = optimize.minimize(
            objective, theta0, jac=True, method="BFGS", options={"gtol": 1e-7, "maxiter": 2000}
        )
    theta = np.asarray(res.x, dtype=np.float64)
    f_hat, grad = objective(theta)
    if not math.isfinite(f_hat) or not np.all(np.isfinite(theta)):
        raise ConvergenceError(f"{who}: the optimiser failed ({res.message})")
    hess = _hessian(objective, theta)
    at = theta.copy()
    # BFGS stops on precision loss short of the maximum: finish with Newton steps
    # (on the Hessian at the BFGS end: near the maximum it hardly changes, and
    # each Hessian costs 2k gradients)
    for _ in range(8):
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        f_new, g_new = objective(theta - step)
        if not (math.isfinite(f_new) and f_new <= f_hat):
            break
        theta, f_hat, grad = theta - step, f_new, g_new
        if float(np.max(np.abs(step))) < 1e-10:
            break
    if float(np.max(np.abs(theta - at))) > 1e-6:  # the covariance at the final estimates
        hess = _hessian(objective, theta)
    tolerance = 1e-6 * max(1.0, n_customers)
    k = len(theta)
    jac = np.concatenate([np.exp(theta[:n_base]), np.ones(k - n_base)])
    try:
        np.linalg.cholesky(hess)
        cov = np.linalg.inv(hess) * np.outer(jac, jac)
    except np.linalg.LinAlgError:
        cov = np.full((k, k), np.nan)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None)) if np.all(np.isfinite(cov)) else np.diag(cov)
    base = np.exp(theta[:n_base])
    model.covariates_ = design
    model.coef_ = theta[n_base:].copy()
    model.coef_standard_errors_ = np.asarray(se[n_base:], dtype=np.float64)
    model.full_covariance_ = np.asarray(cov, dtype=np.float64)
    model.params_ = model._params_class(*[float(v) for v in base])
    model.standard_errors_ = model._params_class(*[float(v) for v in se[:n_base]])
    model.covariance_ = np.asarray(cov[:n_base, :n_base], dtype=np.float64)
    penalty = penalizer * float(np.sum(base**2) + np.sum(theta[n_base:] ** 2))
    model.log_likelihood_ = -(f_hat - penalty)
    model.n_customers_ = n_customers
    model.converged_ = bool(np.all(np.abs(grad) <= tolerance))
    model.n_iter_ = int(res.nit)
    if not np.all(np.isfinite(se)):
        warnings.warn(
            f"{type(model).__name__}: the observed information is not positive definite at "
            "the estimates, so the standard errors are undefined (NaN): some parameters or "
            "coefficients are not pinned down by the data (e.g. a covariate with too few "
            "customers at one level). Fit on more customers or set a 'penalizer' > 0.",
            ConvergenceWarning,
            stacklevel=4,
        )
    named = list(zip(model._param_fields(), base.tolist(), strict=True))
    edge = [name for name, v in named if not 1e-6 < v < 1e6]
    if edge:
        estimates = ", ".join(f"{n}={v:.4g}" for n, v in named)
        values = dict(named)
        if set(edge) & {"a", "b"} and min(values.get("a", 0.0), values.get("b", 0.0)) > 1e3:
            what = (
                "a and b ran towards infinity together: the customers with all dropout "
                "covariates 0 share one dropout probability a/(a+b) (no heterogeneity), and "
                "the likelihood keeps rising, ever more slowly, along that ridge. Predictions "
                "are usable; a tiny 'penalizer' (e.g. 1e-6) picks a finite point of the ridge."
            )
        else:
            what = (
                f"{', '.join(edge)} ran towards 0 or infinity, so these estimates and the "
                "coefficients acting on them are not pinned down by the data; consider fewer "
                "covariates or a 'penalizer' > 0."
            )
        warnings.warn(
            f"{type(model).__name__}: the likelihood levels off at the edge of the parameter "
            f"space ({estimates}): {what}",
            ConvergenceWarning,
            stacklevel=4,
        )
    if not model.converged_:
        warnings.warn(
            f"{type(model).__name__}: the optimiser did not converge (largest gradient "
            f"{float(np.max(np.abs(grad))):.3g}; {res.message}): the likelihood may keep "
            "rising towards the edge of the parameter space (e.g. a covariate that separates "
            "customers); consider a 'penalizer' > 0.",
            ConvergenceWarning,
            stacklevel=4,
        )
