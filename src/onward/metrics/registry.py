"""Every metric's definition, source and kind (docs/metrics.md), as the metrics engine reads them.

The definitions are plain data and live in the domain core (`onward.model.metric_registry`), so that pure
rules such as targets (`onward.model.targets`) can read them without depending on the engine.
"""

from __future__ import annotations

from onward.model.metric_registry import DIRECTION as DIRECTION
from onward.model.metric_registry import GOOD as GOOD
from onward.model.metric_registry import METRICS as METRICS
from onward.model.metric_registry import PROGRAM_GROUPING as PROGRAM_GROUPING
from onward.model.metric_registry import PURPOSE_TITLES as PURPOSE_TITLES
from onward.model.metric_registry import MetricDefinition as MetricDefinition
