#!/usr/bin/env bash
# CI hook for a kernel tree: review every commit of a range in one run, print the text report, write
# SARIF beside it for code-scanning UIs, and fail the job on a correctness finding.
# Usage: deploy/ci-check.sh [RANGE] (default: origin/master..HEAD), run at the tree top.
# Environment: REVIEW_BOT (the command, default review-bot), REVIEW_BOT_SARIF (default
# review-bot.sarif), REVIEW_BOT_STRICT=1 (also fail, exit 3, when a relevant commit is not judged).
set -euo pipefail
range=${1:-origin/master..HEAD}
strict=()
[ -n "${REVIEW_BOT_STRICT:-}" ] && strict=(--strict)
exec ${REVIEW_BOT:-review-bot} check --git "$range" --repo . --format text \
	--sarif "${REVIEW_BOT_SARIF:-review-bot.sarif}" "${strict[@]}"
