"""Endpoints: the destinations of webhooks, each with its own secrets, filter and policy."""
