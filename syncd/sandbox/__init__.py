"""Fake Jira Cloud and GitHub servers on loopback, serving a generated project history."""
