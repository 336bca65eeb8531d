"""The policy files that ship inside the package.

In the checkout they live in `policies/`; setup.py installs that folder as the package
`bot.bundled_policies`, so `pip install .` (and the Docker image) carry them too.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path

DEFAULT_POLICY = "late-and-announced.yaml"
DEMO_POLICY = "demo.yaml"
LOCAL_DEFAULT_POLICY = Path("policies") / DEFAULT_POLICY

_CHECKOUT_POLICIES = Path(__file__).resolve().parent.parent / "policies"
_extracted = contextlib.ExitStack()  # only used if the package is ever imported from a zip
atexit.register(_extracted.close)


def policy_path(name: str) -> Path:
    """A real file path to the shipped policy file `name` (e.g. "demo.yaml")."""
    try:
        folder = resources.files("bot.bundled_policies")
    except ModuleNotFoundError:
        # A checkout used without (re)installing: policies/ sits beside bot/.
        return _CHECKOUT_POLICIES / name
    return _extracted.enter_context(resources.as_file(folder / name))


def default_policy_path() -> Path:
    """`policies/late-and-announced.yaml` in the current folder, else the shipped copy."""
    if LOCAL_DEFAULT_POLICY.is_file():
        return LOCAL_DEFAULT_POLICY
    return policy_path(DEFAULT_POLICY)
