"""Importing depeche's modules does no work: no environment variable set, no logging filter
added, no plotting library loaded. That happens where a program starts."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
PROBE = """
import json, logging, os, pkgutil, sys, importlib
before = dict(os.environ)
for package in ("corpus", "index", "service", "eval", "depeche_cli"):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
print(json.dumps({
    "environment": sorted(set(os.environ.items()) ^ set(before.items())),
    "filters": [name for name, logger in logging.Logger.manager.loggerDict.items()
                if isinstance(logger, logging.Logger) and logger.filters],
    "matplotlib": "matplotlib" in sys.modules,
}))
"""


def test_importing_every_module_changes_nothing() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"environment": [], "filters": [], "matplotlib": False}
