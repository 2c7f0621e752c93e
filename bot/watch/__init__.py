"""The list bot (`review-bot watch`): discover new postings, review them, reply exactly once.

    config.py    the TOML config, checked against its schema
    discover.py  new messages of a list, from its public-inbox search
    triage.py    the first decision per message: own mail, automated, bounce, command, queued
    review.py    a thread's queued postings through the review pipeline (the one call into it)
    plan.py      whether the policy calls for a reply, and the exact message
    deliver.py   outbox maildir or SMTP, and the archive lookup after a crash
    publish.py   an HTML page per review and an index
    state.py     the sqlite state (WAL)
    run.py       the loop; status.py  `review-bot status`
"""
