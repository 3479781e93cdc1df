#!/usr/bin/env bash
# Crash drill, by hand: kill -9 the importer at random points while it
# imports into the emulator with faults on ("response lost" among them),
# twenty times, then run it once more to the end. The emulator must hold
# every valid contact exactly once and the report must have every row once.
# The automated twin of this script is tests/integration/cli/resume.rs (cargo test).
#
# usage: tests/kill_resume.sh [PLATFORM] [ROWS]     (default: whaapy 300)
# needs: curl, python3
set -euo pipefail
cd "$(dirname "$0")/.."
platform=${1:-whaapy}
rows=${2:-300}
cargo build --quiet
bin=target/debug/waport
work=$(mktemp -d)
trap 'kill $emu_pid 2>/dev/null || true; rm -rf "$work"' EXIT

python3 - "$rows" > "$work/in.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("name,phone")
for i in range(n):
    print(f"Cliente {i},+52 55 {6000 + i // 10000:04d} {i % 10000:04d}")
print("Malo,55-12")
PY

"$bin" emulate --listen 127.0.0.1:0 --fault-rate 0.05 --seed 3 --fault-delay-ms 1500 > "$work/emu.out" 2>/dev/null &
emu_pid=$!
for _ in $(seq 50); do grep -q listening "$work/emu.out" 2>/dev/null && break; sleep 0.1; done
base=$(head -1 "$work/emu.out" | sed 's/^listening on //')
export WAZZUP_BASE_URL=$base/wazzup/v3 WHAAPY_BASE_URL=$base/whaapy
export WIPSY_BASE_URL=$base/wipsy/functions/v1 WAPIFLOW_BASE_URL=$base/wapiflow/external-api
export WAZZUP_API_KEY=c8cf90444023482f909520d454368d27 WHAAPY_API_KEY=wha_TU_API_KEY
export WIPSY_API_KEY=YOUR_API_KEY_HERE WAPIFLOW_CLIENT_ID=YOUR-CLIENT-ID WAPIFLOW_CLIENT_SECRET=YOUR-CLIENT-SECRET
export WAPORT_JOURNAL=$work/journal.sqlite
cd "$work"

for i in $(seq 20); do
  "$OLDPWD/$bin" import in.csv --to "$platform" --quiet --rate 100 --timeout 1 &
  pid=$!
  sleep "0.$(( RANDOM % 9 + 1 ))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  printf '\rkill %2d/20: emulator holds %s' "$i" \
    "$(curl -s "$base/_emulator/$platform/contacts" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
done
echo
"$OLDPWD/$bin" import in.csv --to "$platform" --rate 100 --timeout 1 --max-attempts 10 || true

curl -s "$base/_emulator/$platform/contacts" > held.json
python3 - "$platform" "$rows" <<'PY'
import csv, json, sys
from collections import Counter
platform, n = sys.argv[1], int(sys.argv[2])
held = json.load(open("held.json"))
key = {"wazzup": lambda c: c["contactData"][0]["chatId"], "whaapy": lambda c: c["phone_number"],
       "wipsy": lambda c: c["phone"], "wapiflow": lambda c: f'{c["mobile_code"]}{c["mobile"]}'}[platform]
count = Counter(key(c) for c in held)
doubles = {k: v for k, v in count.items() if v > 1}
report = list(csv.DictReader(open("in.report.csv")))
rows = Counter(r["row"] for r in report)
ok = not doubles and len(held) == n and len(report) == n + 1 and max(rows.values()) == 1
print(f"emulator holds {len(held)} of {n} contacts, doubles: {len(doubles)}; report lines: {len(report)} for {n + 1} rows")
sys.exit(0 if ok else 1)
PY
