"""review-bot: reviews kernel patches for page-table and object-lifetime hazards."""

__version__ = "0.1.0"
