#!/usr/bin/env bash
# `make run`: start the whole system, play the demo story, then keep it running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."
PREMIUMS=.venv/bin/premiums
stop() {
  trap - INT TERM EXIT
  printf '\nStopping everything this run started…\n'
  "$PREMIUMS" stack down || true
  exit 0
}
trap stop INT TERM EXIT
"$PREMIUMS" stack up
"$PREMIUMS" demo
cat <<'TXT'

The system is running. Try:
  .venv/bin/premiums stack status                      what runs where
  .venv/bin/premiums demo                              play the story again with a new member
  .venv/bin/premiums clock advance --days 1 --wait     move the business date
  ls .local/mail/new                                   every email sent
  open http://127.0.0.1:8001/docs                      payments' OpenAPI (8002 autopay, 8003 coverage, 8004 notifications)
Press Ctrl-C to stop everything.
TXT
while true; do sleep 3600 & wait $!; done
