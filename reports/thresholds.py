"""`[reports.thresholds]`: the figures the risk rules and themes use beyond each rule's own threshold.

A leaf (pydantic only) so that settings can hold it without importing the analysis package
(numpy, the store, every rule): `syncd sync` on a quiet poll loads settings but no analysis.
`reports.analysis.risk_rules` re-exports it for the analysis code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RiskThresholds(BaseModel):
    """`[reports.thresholds]`: the figures the risk rules and themes use beyond each rule's own threshold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # bug-inflow looks back this many days (two one-week sprints: a wave shows within one cadence)
    bug_window_days: int = Field(14, ge=1, le=365)
    # ... and fires only when at least this many bugs were opened (below it a ratio is noise)
    bug_wave_size: int = Field(3, ge=1)
    # aging-wip compares an item's age with this percentile of its team's cycle time (Vacanti,
    # "Actionable Agile Metrics for Predictability": the 85th percentile as the service level)
    aging_percentile: Literal[50, 85, 95] = 85
    # an accepted theme is raised again when its 85% forecast slips by more than this many days
    ack_slip_days: int = Field(7, ge=0)
    # a theme's decision is asked for within this many days (one weekly report), or by its date if sooner
    decide_within_days: int = Field(7, ge=1, le=90)
