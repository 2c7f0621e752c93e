"""Package list for setuptools (metadata lives in pyproject.toml).

rules/ and models/ live at the repo root and ship inside the wheel as bot/_data/rules and
bot/_data/models; bot.paths finds the checkout copies first and the installed ones otherwise.
"""

from setuptools import find_packages, setup

DATA = {"bot._data.rules": "rules", "bot._data.models": "models"}

setup(
    packages=find_packages(include=["bot", "bot.*"]) + list(DATA),
    package_dir=DATA,
)
