#!/usr/bin/env bash
# tmux-demo.sh drives `usersync demo` in a real terminal: it starts the
# console in a detached tmux session of 80x24, sends keys the way an
# operator would (review, filter, exclude, detail, mappings, explain, help,
# approve, apply, summary) and saves a text capture of each screen.
#
#   scripts/tmux-demo.sh [OUTDIR]      captures go to OUTDIR (default: a temp dir)
#
# USERSYNC overrides the command (default: go run ./cmd/usersync), e.g.
# USERSYNC=./usersync scripts/tmux-demo.sh. Exits 0 with "SKIP" when tmux
# is missing, 1 when a screen does not appear in time (the last capture is
# printed).
set -euo pipefail

if ! command -v tmux >/dev/null 2>&1; then
  echo "tmux-demo: SKIP: tmux is not installed (apt-get install tmux)" >&2
  exit 0
fi

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$(mktemp -d -t usersync-tmux-demo.XXXXXX)}
mkdir -p "$out"
cmd=${USERSYNC:-go run ./cmd/usersync}
session="usersync-demo-$$"
sock="usersync-demo-$$"
t() { tmux -L "$sock" "$@"; }

cleanup() { t kill-server >/dev/null 2>&1 || true; }
trap cleanup EXIT

# A private server, run in the foreground (-D) in the background: this
# works where tmux cannot daemonise (some containers), and kill-server ends
# it. NO_COLOR keeps the captures plain.
t -f /dev/null -D >/dev/null 2>&1 &
for ((i = 0; i < 50; i++)); do t list-sessions >/dev/null 2>&1 && break; t start-server >/dev/null 2>&1 && break; sleep 0.1; done
t new-session -d -s "$session" -x 80 -y 24 -c "$root" \
  "env NO_COLOR=1 TERM=xterm-256color $cmd demo; echo; echo '[usersync exited with' \$? ']'; sleep 600"
t set-option -t "$session" remain-on-exit on >/dev/null

screen() { t capture-pane -p -t "$session"; }

# wait_for TEXT SECONDS: poll the pane until TEXT shows.
wait_for() {
  local text=$1 secs=${2:-20} i
  for ((i = 0; i < secs * 10; i++)); do
    if screen | grep -qF -- "$text"; then return 0; fi
    sleep 0.1
  done
  echo "tmux-demo: FAIL: \"$text\" did not appear within ${secs}s; the screen was:" >&2
  screen >&2
  exit 1
}

n=0
capture() {
  n=$((n + 1))
  local f
  f=$(printf '%s/%02d-%s.txt' "$out" "$n" "$1")
  screen >"$f"
  echo "tmux-demo: captured $f"
}

keys() { t send-keys -t "$session" "$@"; sleep 0.3; }
text() { t send-keys -t "$session" -l "$1"; sleep 0.3; }

# The first run compiles, hence the long wait.
wait_for "[2 Review]" 240
capture review
keys j
keys j
capture review-cursor
keys /
text "action:update"
keys Enter
capture review-filter
keys Space
capture review-excluded
keys Enter
capture review-detail
keys Escape
keys Escape
keys 3
wait_for "Group mappings"
capture mappings
keys 2
keys j # the first row creates a group; explain a user
keys e
wait_for "Explanation for" 30
capture explain
keys 2
keys ?
wait_for "Keys"
capture help
keys Escape
keys A
wait_for "Approve and apply"
capture approve
if screen | grep -q "^Type [0-9]* and press enter"; then
  need=$(screen | sed -n 's/^Type \([0-9]*\) and press enter.*/\1/p' | head -1)
  text "$need"
  keys Enter
else
  keys y
fi
# The apply may be quicker than a poll; capture it (and a throttle wait,
# which the demo's realistic rate limits bring) when it can be seen.
applied=0 throttled=0
for ((i = 0; i < 3000; i++)); do
  s=$(screen)
  if grep -qF "[6 Summary]" <<<"$s"; then break; fi
  if [ $applied = 0 ] && grep -qF "[5 Apply]" <<<"$s"; then capture apply; applied=1; fi
  if [ $throttled = 0 ] && grep -qF "waiting" <<<"$s"; then capture apply-throttled; throttled=1; fi
  sleep 0.1
done
wait_for "[6 Summary]" 300
wait_for "Past runs" 30
capture summary
keys Enter
wait_for "Per-user results" 30
capture history-run
keys Escape
keys q
wait_for "[usersync exited with" 30
echo "tmux-demo: OK: $n screens captured in $out"
