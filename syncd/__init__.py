"""syncd: Jira and GitHub sync and goal-oriented reporting daemon."""

__version__ = "0.1.0"
