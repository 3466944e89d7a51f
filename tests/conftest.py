"""Shared pytest configuration: fixtures for the real components live in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.rabbit",
    "tests.fixtures.mistral",
    "tests.fixtures.simulator",
    "tests.fixtures.pacemaker",
    "tests.fixtures.prod",
]
