"""Rendering: escaping, templates, HTML/text conversion and charts for reports."""
