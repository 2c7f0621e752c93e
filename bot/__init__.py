"""review-bot: reviews kernel patches for page-table and object-lifetime hazards."""

from bot import classcode

__version__ = "0.1.0"

classcode.install()  # before any of the package's dataclasses is made
