"""`python -m bot` is `review-bot`."""

from bot.cli import main

raise SystemExit(main())
