"""Fixtures of the end-to-end tests: the headless browser."""

from tests.e2e.browser import browser  # noqa: F401 - a fixture, found by pytest through this import
