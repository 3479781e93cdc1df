#!/usr/bin/env bash
# Upload pace against the emulator: contacts/s and the share of the limit
# the platform allows, with waport's default flags (no --rate, no
# --concurrency), at several latencies and against limits waport does not
# know. Prints the README's table (Markdown) on stdout.
#
#   benches/upload.sh            # everything (about 10 minutes)
#   QUICK=1 benches/upload.sh    # smaller files, for a smoke run
#   ONLY='lower|then' benches/upload.sh   # the scenarios whose label matches
#
# Builds the release binary first. Each scenario starts its own emulator on
# a free port and imports a clean generated file (every phone distinct and
# valid), so every row must end `created`.
set -euo pipefail
cd "$(dirname "$0")/.."
# WAPORT_BIN=path/to/waport measures that binary instead of building one.
bin="${WAPORT_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/waport"
fi
work="$(mktemp -d)"
trap 'kill "${emu_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

quick="${QUICK:-}"

# N distinct valid Spanish mobiles (+34 6…), with names.
gen() {
  local n="$1" out="$2"
  awk -v n="$n" 'BEGIN { print "first_name,last_name,phone";
    for (i = 0; i < n; i++) printf "Ana,Lopez%d,+346%08d\n", i, i }' >"$out"
}

start_emulator() {
  "$bin" emulate --listen 127.0.0.1:0 "$@" >"$work/emu.out" 2>/dev/null &
  emu_pid=$!
  for _ in $(seq 1 100); do
    base="$(sed -n 's/^listening on //p' "$work/emu.out")"
    [ -n "$base" ] && return 0
    sleep 0.05
  done
  echo "emulator did not start" >&2
  exit 1
}

stop_emulator() {
  kill "$emu_pid" 2>/dev/null || true
  wait "$emu_pid" 2>/dev/null || true
}

# run LABEL PLATFORM CONTACTS PER_REQUEST LIMIT_REQ_PER_S "EMULATOR FLAGS" [IMPORT FLAGS...]
# LIMIT_REQ_PER_S: the limit that applies at the end of the run (for the
# share of the limit and the final pace).
run() {
  local label="$1" platform="$2" n="$3" per="$4" limit="$5" emu_flags="$6"
  shift 6
  if [ -n "${ONLY:-}" ] && ! grep -qE -- "$ONLY" <<<"$label"; then return 0; fi
  # shellcheck disable=SC2086
  start_emulator $emu_flags
  gen "$n" "$work/in.csv"
  local env_base
  case "$platform" in
    wazzup) env_base="WAZZUP_BASE_URL=$base/wazzup/v3 WAZZUP_API_KEY=c8cf90444023482f909520d454368d27" ;;
    whaapy) env_base="WHAAPY_BASE_URL=$base/whaapy WHAAPY_API_KEY=wha_TU_API_KEY" ;;
  esac
  local json
  # shellcheck disable=SC2086
  json="$(env $env_base WAPORT_JOURNAL="$work/j.sqlite" "$bin" import "$work/in.csv" \
    --to "$platform" --json --report "$work/r.csv" "$@" || true)"
  stop_emulator
  rm -f "$work/j.sqlite"*
  python3 - "$label" "$n" "$per" "$limit" "$json" <<'EOF'
import json, sys
label, n, per, limit, text = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
j = json.loads(text.strip().splitlines()[-1])
created, failed, secs = j.get("created", 0), j.get("failed", 0), j["elapsed_s"]
cps = created / secs if secs else 0
allowed = limit * per
pace = j["pace_per_min"] / 60
print(f"| {label} | {n:,} | {secs:.1f} s | {cps:,.0f} | {100 * cps / allowed:.1f}% | "
      f"{created:,} / {failed} | {j['rate_limited']} | {j['slowdowns']} | {j['pace']} "
      f"({100 * pace / limit:.0f}% of the limit) |")
EOF
}

if [ -n "$quick" ]; then wz=20000; wh=30; low=20000; else wz=200000; wh=60; low=120000; fi

echo "| scenario | contacts | time | contacts/s | of the allowed rate | created / failed | 429s | slowdowns | pace at the end |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
for lat in 0 100 300; do
  jit=$((lat / 3))
  run "Wazzup (100 a request), 500/5 s, ${lat} ms ±${jit}" wazzup "$wz" 100 100 \
    "--latency-ms $lat --latency-jitter-ms $jit"
done
for lat in 0 100 300; do
  jit=$((lat / 3))
  run "Whaapy (1 a request), 100/min, ${lat} ms ±${jit}" whaapy "$wh" 1 "$(python3 -c 'print(100/60)')" \
    "--latency-ms $lat --latency-jitter-ms $jit"
done
# A limit 10x below Wazzup's published one: waport starts at 100/s and
# must find 10/s from the 429s alone (no Retry-After, as Wazzup answers).
run "Wazzup, limit 10× lower (50/5 s), 100 ms" wazzup "$low" 100 10 \
  "--latency-ms 100 --latency-jitter-ms 30 --rate-limit-schedule 0:50/5s"
# The limit drops from 500/5 s to 100/5 s after 10 s.
run "Wazzup, 500/5 s then 100/5 s after 10 s, 100 ms" wazzup "$((low * 5 / 2))" 100 20 \
  "--latency-ms 100 --latency-jitter-ms 30 --rate-limit-schedule 0:500/5s,10:100/5s"
# Whaapy: the plan allows 20/s (--rate 20), then the limit drops to 5/s.
run "Whaapy --rate 20, 20/s then 5/s after 20 s, 300 ms" whaapy "$([ -n "$quick" ] && echo 450 || echo 600)" 1 5 \
  "--latency-ms 300 --latency-jitter-ms 100 --rate-limit-schedule 0:20/s,20:5/s" --rate 20
# The outside check of the pacing issue: 300 ms of latency and a limit
# below every default (the emulator's --rate-limit, a per-second window
# with Retry-After), found from the 429s alone.
for jit in 0 100; do
  run "Wazzup, 300 ms ±$jit, limit 5/s (below any default)" wazzup "$((low / 2))" 100 5 \
    "--latency-ms 300 --latency-jitter-ms $jit --rate-limit 5"
  run "Whaapy, 300 ms ±$jit, limit 1/s (below any default)" whaapy "$([ -n "$quick" ] && echo 60 || echo 120)" 1 1 \
    "--latency-ms 300 --latency-jitter-ms $jit --rate-limit 1"
done
