"""The report catalogue: status (per audience), sprint kickoff and review, timeline, launch readiness
and retrospective, each rendered from one analysis. Entry point: `reports.catalogue.catalogue`."""
