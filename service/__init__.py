"""The application: question answering (no HTTP inside), settings, HTTP API, Slack, CLI."""
