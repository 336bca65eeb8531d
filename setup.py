"""Packages: everything under bot/, plus policies/ shipped as bot.bundled_policies.

(pyproject.toml holds the rest; this mapping cannot be combined with packages.find there.)
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["bot", "bot.*"]), "bot.bundled_policies"],
    package_dir={"bot.bundled_policies": "policies"},
)
