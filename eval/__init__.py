"""Evaluation: gold questions, metrics (pure functions) and the runner that scores a setup."""
