"""A real service a test needs (PostgreSQL, Redis) is missing: a skip on a laptop, a failure under CI=true,
where every service is started before the run and a skip would hide a broken setup."""

from __future__ import annotations

import os

import pytest


def service_missing(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (required under CI=true)")
    pytest.skip(message)
