"""`python -m bot` is `review-bot`."""

from bot.cli import run

run()
