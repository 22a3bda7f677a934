"""Analysis: progress, sprints, flow, forecasts, risks and status, as typed results.

Entry point: `analyse(snapshot, goals, settings, now, capacity=...) -> Analysis`. The result types
live in `reports.analysis.types` (the contract renderers build on); `compare_risks` says which
risks are new, ongoing or resolved since a previous run's risk ids.
"""

from syncd.reports.analysis.analyse import AnalysisSettings, analyse, forecast_items_by, sprint_risks
from syncd.reports.analysis.risk_rules import RULES, compare_risks, rule_configs

__all__ = ["RULES", "AnalysisSettings", "analyse", "compare_risks", "forecast_items_by", "rule_configs", "sprint_risks"]
