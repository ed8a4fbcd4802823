"""Stateful fake forge servers for tests (import as ``fakes.github_server``)."""
