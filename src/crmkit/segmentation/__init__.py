"""Customer segmentation: six segmenters, segment profiles and migration.

Every segmenter is a :class:`crmkit.plugins.Segmenter`: ``fit`` learns cut
points, thresholds or centroids from a customer view, ``assign`` labels the
customers of any view (a categorical Series indexed by customer id),
``reasons`` says why each customer got its label (with its own numbers and
the fitted thresholds; ``explain`` gives labels and reasons at once) and
``describe`` summarises the segments. Registry names: ``rfm``, ``deciles``,
``portfolio``, ``kmeans``, ``firmographic``, ``key_accounts``.

Examples
--------
>>> from crmkit.segmentation import DecileSegmenter, profile_segments
>>> from crmkit.testing import make_customer_view
>>> view = make_customer_view(100, seed=2)
>>> labels = DecileSegmenter(n_groups=5).fit(view).assign(view)
>>> profile_segments(view, labels)["n_customers"].tolist()
[20, 20, 20, 20, 20]
"""

from crmkit.segmentation._deciles import DecileSegmenter
from crmkit.segmentation._explain import explain_segments
from crmkit.segmentation._firmographic import FirmographicSegmenter
from crmkit.segmentation._key_accounts import KeyAccountSegmenter
from crmkit.segmentation._kmeans import KMeansSegmenter
from crmkit.segmentation._migration import GONE, NEW, SegmentMigration, segment_migration
from crmkit.segmentation._portfolio import PORTFOLIOS, PortfolioSegmenter
from crmkit.segmentation._profile import profile_segments
from crmkit.segmentation._rfm import RFM_RULES, RFMSegmenter

__all__ = [
    "GONE",
    "NEW",
    "PORTFOLIOS",
    "RFM_RULES",
    "DecileSegmenter",
    "FirmographicSegmenter",
    "KMeansSegmenter",
    "KeyAccountSegmenter",
    "PortfolioSegmenter",
    "RFMSegmenter",
    "SegmentMigration",
    "explain_segments",
    "profile_segments",
    "segment_migration",
]
