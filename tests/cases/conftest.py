"""Fixtures of the case workflow tests: app_data, write_json and cli are in tests/conftest.py."""
