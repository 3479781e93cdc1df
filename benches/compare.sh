#!/usr/bin/env bash
# Whole-process comparison of `waport validate` with the pandas +
# phonenumbers + email-validator script in benches/pandas_validate.py, on
# files written by `waport generate` (Windows-1252, `;`, Spanish headers,
# 16 countries, ~10% bad phones and e-mails, 5% repeats).
#
# usage: benches/compare.sh [ROWS ...]      (default: 200000 1000000)
# Prints a Markdown table: time, rows/s and peak RSS of each, and the ratio
# (waport: median of three runs; pandas: one run).
# Inputs go to bench-data/ (git-ignored); Python packages to a venv there.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(200000 1000000)
data=bench-data
mkdir -p "$data"
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/waport
if [ ! -x "$data/venv/bin/python" ]; then
  python3 -m venv "$data/venv"
  "$data/venv/bin/pip" install --quiet pandas phonenumbers email-validator
fi
py="$data/venv/bin/python"

# measure LABEL CMD... → sets secs and rss_mb
measure() {
  local log="$data/time.log"
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
  local wall
  wall=$(grep 'Elapsed (wall clock)' "$log" | awk '{print $NF}')
  secs=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss_mb=$(grep 'Maximum resident set size' "$log" | awk '{printf "%.0f", $NF/1024}')
}

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d)"
echo
echo "| rows | waport s | waport rows/s | waport RSS MB | pandas s | pandas rows/s | pandas RSS MB | speed-up |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${rows[@]}"; do
  input="$data/contacts_$n.csv"
  [ -f "$input" ] || "$bin" generate --rows "$n" --output "$input"
  # waport: the median of three runs (a run takes about a second, and one
  # run on a shared 2-core machine swings by ±15%); pandas: one run (its
  # minute-long runs vary by a few per cent).
  runs=()
  for _ in 1 2 3; do
    measure "$bin" validate "$input" --quiet --report "$data/waport_$n.report.csv"
    runs+=("$secs $rss_mb")
  done
  read -r w_s w_rss < <(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
  measure "$py" benches/pandas_validate.py "$input" "$data/pandas_$n.report.csv"
  p_s=$secs; p_rss=$rss_mb
  awk -v n="$n" -v ws="$w_s" -v wr="$w_rss" -v ps="$p_s" -v pr="$p_rss" 'BEGIN {
    printf "| %d | %.2f | %.0f | %s | %.2f | %.0f | %s | %.1fx |\n", n, ws, n/ws, wr, ps, n/ps, pr, ps/ws }'
done
