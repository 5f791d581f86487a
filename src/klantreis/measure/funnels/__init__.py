"""Funnels: how many persons go from step to step within a conversion window."""

from klantreis.measure.funnels.result import FunnelResult
from klantreis.measure.funnels.runner import funnel, run_funnel
from klantreis.measure.funnels.steps import FunnelSpec, FunnelStep

__all__ = ["FunnelResult", "FunnelSpec", "FunnelStep", "funnel", "run_funnel"]
