#!/usr/bin/env bash
# CI hook for a kernel tree: review every commit of a range and fail the job on a correctness
# finding. Usage: deploy/ci-check.sh [RANGE] (default: origin/master..HEAD), run at the tree top.
# Writes SARIF for code-scanning UIs next to the plain report.
set -euo pipefail
range=${1:-origin/master..HEAD}
review-bot check --git "$range" --repo . --format sarif -o review-bot.sarif || rc=$?
review-bot check --git "$range" --repo . --format text
exit "${rc:-0}"
