"""Analysis (progress, sprints, flow, forecasts, risks) and rendering (Markdown, HTML, email)."""
