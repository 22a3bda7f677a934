"""Analysis: progress, sprints, flow, forecasts, risks and status, as typed results.

The result types live in `reports.analysis.types` (the contract renderers build on).
"""
