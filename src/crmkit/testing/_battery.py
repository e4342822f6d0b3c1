"""Running the conformance battery: ``check_plugin`` and ``parametrize_with_checks``."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from crmkit.exceptions import ConvergenceWarning, DataWarning
from crmkit.testing._checks import CHECKS
from crmkit.testing._dispatch import infer_kind

__all__ = ["CHECK_NAMES", "check_plugin", "iter_checks", "parametrize_with_checks"]

#: Names of the checks, in the order they run.
CHECK_NAMES: tuple[str, ...] = tuple(c.__name__ for c in CHECKS)

Check = Callable[[Any], None]


def iter_checks(plugin: Any, kind: str | None = None) -> Iterator[Check]:
    """The battery's checks for one plugin, each a callable taking the plugin.

    Parameters
    ----------
    plugin : object
        The plugin to check.
    kind : {"segmenters", "churn_detectors", "care_models", "stagers"} or None
        Its kind; None infers it from the protocol it satisfies.

    Yields
    ------
    callable
        ``check(plugin)``, raising :class:`AssertionError` on failure; its
        ``__name__`` is the check's name.

    Examples
    --------
    >>> from crmkit.segmentation import DecileSegmenter
    >>> [c.__name__ for c in iter_checks(DecileSegmenter())][:2]
    ['check_protocol', 'check_no_work_in_init']
    """
    resolved = infer_kind(plugin, kind)
    for check in CHECKS:
        bound = functools.partial(_without_fit_warnings, check, kind=resolved)
        functools.update_wrapper(bound, check)
        yield bound


def _without_fit_warnings(check: Callable[..., None], plugin: Any, *, kind: str) -> None:
    """Run a check with model-fit warnings silenced.

    The checks feed small and degenerate views (identical customers, a
    handful of rows); a value model inside the plugin that cannot identify
    its parameters there warns (:class:`~crmkit.exceptions.ConvergenceWarning`),
    and a plugin that then falls back to default parameters says so with a
    :class:`~crmkit.exceptions.DataWarning` ("... cannot be fitted on this
    view ..."); neither breaks a contract.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", r".*cannot be fitted on this view", DataWarning)
        check(plugin, kind=kind)


def check_plugin(plugin: Any, kind: str | None = None) -> None:
    """Run the whole conformance battery on one plugin.

    The checks: the plugin satisfies its kind's protocol and declares
    ``requires``/``provides``; ``__init__`` only stores its parameters (no
    ``*_`` attribute before ``fit``); a clone via ``get_params`` behaves the
    same; use before ``fit`` raises ``NotFittedError``; ``fit`` leaves the
    parameters alone and returns ``self``; fitting is idempotent (also after
    fitting other data); the input view (values, dtypes, index) and labels
    are never mutated; the output follows the kind's contract and is indexed
    by the view's customer ids in the same order (also for reordered and
    unseen views); one customer alone gets its row of the bulk output; a JSON
    save/load round trip gives identical output and the file holds no
    customer ids; a missing required column raises a ``SchemaError`` naming
    it; a one-customer view, a view of identical customers and
    hypothesis-generated views (with ties and missing values) work.

    Each kind's check builds views holding what the plugin ``requires``
    (:func:`crmkit.testing.make_customer_view`,
    :func:`crmkit.testing.strategies.customer_views`); churn detectors are
    fitted with simple churn labels ``y``.

    Parameters
    ----------
    plugin : object
        The plugin (with ``get_params``/``set_params``/``to_dict``/
        ``from_dict``/``save``/``load``, e.g. via
        :class:`crmkit.plugins.PluginBase`).
    kind : {"segmenters", "churn_detectors", "care_models", "stagers"} or None
        Its kind; None infers it from the protocol it satisfies.

    Raises
    ------
    AssertionError
        From the first failing check, prefixed with the check's name (an
        unexpected exception inside a check is reported the same way).

    Examples
    --------
    >>> from crmkit.segmentation import DecileSegmenter
    >>> check_plugin(DecileSegmenter(n_groups=4))
    """
    for check in iter_checks(plugin, kind):
        try:
            check(plugin)
        except AssertionError as exc:
            raise AssertionError(f"{check.__name__}: {exc}") from exc
        except Exception as exc:
            raise AssertionError(f"{check.__name__}: {type(exc).__name__}: {exc}") from exc


def _plugin_id(plugin: Any) -> str:
    text = repr(plugin)
    if " object at 0x" in text:
        return type(plugin).__name__
    return text


def parametrize_with_checks(plugins: Iterable[Any], kind: str | None = None) -> Any:
    """A ``pytest.mark.parametrize`` decorator yielding ``(plugin, check)`` pairs.

    Parameters
    ----------
    plugins : iterable of object
        Plugin instances.
    kind : str or None, default=None
        Force one kind for all; None infers each plugin's kind.

    Returns
    -------
    pytest.MarkDecorator
        Parametrizes the test's ``plugin`` and ``check`` arguments; call
        ``check(plugin)`` in the test. Test ids read
        ``"<plugin repr>-<check name>"``.

    Examples
    --------
    >>> from crmkit.segmentation import DecileSegmenter
    >>> mark = parametrize_with_checks([DecileSegmenter()])
    >>> @mark
    ... def test_conformance(plugin, check):
    ...     check(plugin)
    >>> len(mark.args[1])
    15
    """
    import pytest

    pairs = []
    ids = []
    for plugin in plugins:
        for check in iter_checks(plugin, kind):
            pairs.append((plugin, check))
            ids.append(f"{_plugin_id(plugin)}-{check.__name__}")
    return pytest.mark.parametrize("plugin, check", pairs, ids=ids)
