"""The extractor tests' ground-truth helpers (tests/extract/sim_extraction.py: settings for a
simulator, the server's truth, the database's content), loaded by path: test folders are
not packages, and this folder may run on its own."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _load() -> ModuleType:
    loaded = sys.modules.get("sim_extraction")
    if loaded is not None:
        return loaded
    path = Path(__file__).resolve().parents[1] / "extract" / "sim_extraction.py"
    spec = importlib.util.spec_from_file_location("sim_extraction", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sim_extraction"] = module
    spec.loader.exec_module(module)
    return module


sim_extraction = _load()
