"""Shared fixtures: every test process uses the legacy Keras the pipeline runs with.

`@pytest.mark.requires("nginx", ...)` names what a test needs beyond the Python packages. A
missing one fails the test saying how to install it; TFXP_ALLOW_MISSING_TOOLS=1 skips such tests
instead (for a machine that cannot have them, never to hide a broken install).
"""
import os

import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _nginx() -> bool:
    from serving.config import configs
    from serving.rollout import router
    try:
        router.nginx_binary()
        return True
    except configs.ConfigError:
        return False


def _chromium() -> bool:
    from tests.report import browser
    return os.path.exists(browser.CHROMIUM)


def _prepared_data() -> bool:
    from data import settings
    from models import registry
    return all((settings.PREPARED_ROOT / name / "MANIFEST.json").exists()
               for name in registry.names())


# name -> (is it there, what to do when it is not)
REQUIREMENTS = {
    "nginx": (_nginx, "nginx is not installed: `make system-packages` installs it "
                      "(apt-get install nginx)"),
    "chromium": (_chromium, "Chromium is not installed: `make system-packages` installs it "
                            "(apt-get install chromium)"),
    "prepared-data": (_prepared_data, "the full datasets are not prepared: `make data` "
                                      "(tfxp data prepare) writes them"),
}


def missing_requirements(names):
    """The install advice for each of `names` that this machine lacks."""
    unknown = set(names) - set(REQUIREMENTS)
    if unknown:
        raise ValueError(f"unknown requirement(s) {sorted(unknown)}; known: {sorted(REQUIREMENTS)}")
    return [REQUIREMENTS[name][1] for name in names if not REQUIREMENTS[name][0]()]


def pytest_configure(config):
    """Registers the `requires` marker."""
    config.addinivalue_line(
        "markers", "requires(*names): needs nginx, chromium or prepared-data; missing fails "
                   "the test unless TFXP_ALLOW_MISSING_TOOLS=1")


def pytest_runtest_setup(item):
    """Fails (or, with the opt-out, skips) a test whose `requires` names something missing."""
    from data import settings

    names = [name for marker in item.iter_markers("requires") for name in marker.args]
    advice = missing_requirements(names)
    if not advice:
        return
    message = "; ".join(advice)
    if settings.ALLOW_MISSING_TOOLS:
        pytest.skip(f"{message} (skipped: TFXP_ALLOW_MISSING_TOOLS=1)")
    pytest.fail(f"{message}. To skip such tests on a machine that cannot have them, set "
                f"TFXP_ALLOW_MISSING_TOOLS=1.", pytrace=False)
