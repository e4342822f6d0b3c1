"""Testing tools for plugin authors: the conformance battery and data makers.

``check_plugin`` runs every conformance check on one plugin;
``parametrize_with_checks`` turns the battery into pytest cases (like
scikit-learn's). ``make_customer_view`` builds valid random customer views;
:mod:`crmkit.testing.strategies` has hypothesis strategies for views and
transaction frames (needs ``hypothesis``).

Examples
--------
A third-party test module::

    from crmkit.testing import parametrize_with_checks
    from my_package import MySegmenter

    @parametrize_with_checks([MySegmenter(), MySegmenter(k=3)])
    def test_conformance(plugin, check):
        check(plugin)

>>> from crmkit.testing import check_plugin
>>> from crmkit.segmentation import KeyAccountSegmenter
>>> check_plugin(KeyAccountSegmenter(share=0.8))
"""

from crmkit.testing._battery import CHECK_NAMES, check_plugin, iter_checks, parametrize_with_checks
from crmkit.testing._views import make_customer_view

__all__ = [
    "CHECK_NAMES",
    "check_plugin",
    "iter_checks",
    "make_customer_view",
    "parametrize_with_checks",
]
