#!/usr/bin/env bash
# Host-side copy benchmark: `stargate put` and `stargate get` of one big random file through a
# zone in /dev/shm, against `cp` between two files in /dev/shm (the memory-speed limit).
#   bench/zone-copy.sh                          # 1 GiB, 3 runs each
#   BENCH_SIZE=256M BENCH_RUNS=5 bench/zone-copy.sh
# Wall times include .NET start-up, since that is what a user of the command waits for. When the
# CLI prints "timing: put N bytes in S s" on stderr (STARGATE_TIMING=1), that time is reported
# too. Every round trip is checked with cmp. The Markdown table goes to stdout and to
# bench/results/zone-copy.md.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$root"
stargate="$root/stargate"

size=${BENCH_SIZE:-1G}    # a head -c size
runs=${BENCH_RUNS:-7}
zone_size=2G              # zones must be 2^n bytes (ivshmem BAR2)

shm=/dev/shm
src="$shm/stargate-bench.$$.src"
cp_out="$shm/stargate-bench.$$.cp"
get_out="$shm/stargate-bench.$$.get"
zone="$shm/stargate-bench.$$.zone"
logs=$(mktemp -d)
results_md="$root/bench/results/zone-copy.md"

cleanup() {
  rm -f "$src" "$cp_out" "$get_out" "$zone" "$zone.data" "$shm/stargate-bench.$$.64g.zone" "$shm/stargate-bench.$$.64g.zone.data"
  rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() { echo "zone-copy: error: $*" >&2; exit 1; }

now_ns() { date +%s%N; }
seconds_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }

# median of the arguments (numbers); "" when there are none
median() {
  (($# > 0)) || { echo ""; return; }
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

gibps() { awk -v bytes="$bytes" -v s="$1" 'BEGIN { if (s > 0) printf "%.2f", bytes / 1073741824 / s; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

# the time the CLI reported for OP in LOG ("timing: put 1073741824 bytes in 0.532 s"), or nothing
cli_seconds() { sed -n "s/^timing: $1 [0-9]* bytes in \([0-9.]*\) s.*\$/\1/p" "$2" | tail -n 1; }

# run LABEL COMMAND...: stdout and stderr to $logs/LABEL.log; on failure show them and stop
run() {
  local label=$1; shift
  if ! "$@" >"$logs/$label.log" 2>&1 </dev/null; then
    cat "$logs/$label.log" >&2
    die "'$*' failed"
  fi
}

# Room for the source, the zone's data, the cp copy or the get output, and the prime buffer.
need_kib=$(( $(numfmt --from=iec "$size") * 4 / 1024 + 768 * 1024 ))
have_kib=$(df -Pk "$shm" | awk 'NR == 2 { print $4 }')
((have_kib >= need_kib)) || die "$shm has $((have_kib / 1024)) MiB free; this needs about $((need_kib / 1024)) MiB (try BENCH_SIZE=256M)"

echo "zone-copy: making a $size random file in $shm" >&2
head -c "$size" /dev/urandom >"$src"
bytes=$(stat -c %s "$src")

# Builds the CLI if needed, so no build lands inside a timed run.
run zone-create "$stargate" zone create "$zone" --size "$zone_size" --force

# This kind of VM returns freed memory to its hypervisor (virtio-balloon free page
# reporting, 2 MiB blocks, a few seconds after the free) and touching it again is slow: the
# same cp takes 0.5 s into memory freed a moment ago and 2-3 s into memory freed 6 s ago. So
# that no copy is measured in different conditions from another, each timed copy gets a
# buffer written and freed right before it: its own size plus 512 MiB, room for the copying
# process too (.NET takes some 100 MiB before it copies, cp almost none; with the copy's size
# alone, the end of stargate's copy went into memory freed long ago).
prime() { head -c "$((bytes + (512 << 20)))" /dev/zero >"$shm/stargate-bench.$$.prime"; rm -f "$shm/stargate-bench.$$.prime"; }

# Formatting is O(1): a 64 GiB zone (sparse) in well under a second, a few pages of memory.
big_zone="$shm/stargate-bench.$$.64g.zone"
format_times=()
for ((i = 1; i <= runs; i++)); do
  rm -f "$big_zone" "$big_zone.data"
  t=$(now_ns); run format "$stargate" zone create "$big_zone" --size 64G; format_times+=("$(seconds_since "$t")")
done
format_kib=$(du -ck "$big_zone" "$big_zone.data" | tail -n 1 | cut -f1)
rm -f "$big_zone" "$big_zone.data"

cp_times=() put_times=() get_times=() put_cli=() get_cli=()
time_cp() {
  prime
  t=$(now_ns); run cp cp "$src" "$cp_out"; cp_times+=("$(seconds_since "$t")")
  rm -f "$cp_out"
}
time_put_get() {
  prime
  t=$(now_ns); run put env STARGATE_TIMING=1 "$stargate" put "$zone" "$src" /big; put_times+=("$(seconds_since "$t")")
  s=$(cli_seconds put "$logs/put.log"); [[ -n "$s" ]] && put_cli+=("$s")

  prime
  t=$(now_ns); run get env STARGATE_TIMING=1 "$stargate" get "$zone" /big "$get_out"; get_times+=("$(seconds_since "$t")")
  s=$(cli_seconds get "$logs/get.log"); [[ -n "$s" ]] && get_cli+=("$s")

  cmp "$src" "$get_out" || die "run $i: the file read back with 'stargate get' differs from the one put"
  rm -f "$get_out"
  run rm "$stargate" rm "$zone" /big
}

# The order alternates (cp first in odd runs, last in even ones), so that neither side always
# runs in the same place of a round.
for ((i = 1; i <= runs; i++)); do
  echo "zone-copy: run $i/$runs" >&2
  if ((i % 2)); then
    time_cp
    time_put_get
  else
    time_put_get
    time_cp
  fi
done

cp_s=$(median "${cp_times[@]}")
put_s=$(median "${put_times[@]}")
get_s=$(median "${get_times[@]}")
put_cli_s=$(median "${put_cli[@]+"${put_cli[@]}"}")
get_cli_s=$(median "${get_cli[@]+"${get_cli[@]}"}")

# "min-max" of the arguments
spread() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }'; }
least() { printf '%s\n' "$@" | sort -g | head -n 1; }
cp_min=$(least "${cp_times[@]}")
put_cli_min=$(least "${put_cli[@]+"${put_cli[@]}"}")
get_cli_min=$(least "${get_cli[@]+"${get_cli[@]}"}")

# row OP WALL SPREAD CLI CLI-MIN
row() {
  local cli_cols="| - | - | - | - | -"
  [[ -n "$4" ]] && cli_cols="| $4 | $(gibps "$4") | $(ratio "$4" "$cp_s") | $5 | $(ratio "$5" "$cp_min")"
  echo "| $1 | $2 | $3 | $(gibps "$2") | $(ratio "$2" "$cp_s") $cli_cols |"
}

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null) ]] || commit="$commit+dirty"

table=$(cat <<EOF
# zone-copy: stargate put/get against cp, in /dev/shm

$(date -u +%Y-%m-%dT%H:%MZ), commit $commit, $(nproc) CPUs, $(uname -r), .NET $(dotnet --version 2>/dev/null || echo '?').
$bytes bytes of random data, zone of $zone_size in $shm, median of $runs runs, every round trip checked with cmp.
"wall" includes starting .NET; "CLI" is the time the command reports itself (STARGATE_TIMING=1).
"vs cp" is the time divided by cp's: 2.00x means half cp's speed. Each timed copy writes into
memory freed just before it (see prime() in bench/zone-copy.sh: this VM hands freed memory
back to its hypervisor, which makes copies into long-free memory 4-5x slower, whoever copies).
cp runs first in odd rounds and last in even ones. That noise only ever adds time, so the
fastest run of each ("CLI min", against cp's fastest) is shown beside the medians.

| op | wall s | min-max s | wall GiB/s | wall vs cp | CLI s | CLI GiB/s | CLI vs cp | CLI min s | CLI min vs cp min |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
$(row cp "$cp_s" "$(spread "${cp_times[@]}")" "")
$(row put "$put_s" "$(spread "${put_times[@]}")" "$put_cli_s" "$put_cli_min")
$(row get "$get_s" "$(spread "${get_times[@]}")" "$get_cli_s" "$get_cli_min")

\`stargate zone create --size 64G\`: $(median "${format_times[@]}") s (median, $(spread "${format_times[@]}") s, including .NET start-up); the new zone file holds ${format_kib} KiB of memory.
EOF
)

mkdir -p "$(dirname "$results_md")"
printf '%s\n' "$table" >"$results_md"
echo
printf '%s\n' "$table"
echo
echo "put/cp: $(ratio "$put_s" "$cp_s") the time of cp (wall)${put_cli_s:+, $(ratio "$put_cli_s" "$cp_s") (CLI), $(ratio "$put_cli_min" "$cp_min") (fastest runs)}"
echo "get/cp: $(ratio "$get_s" "$cp_s") the time of cp (wall)${get_cli_s:+, $(ratio "$get_cli_s" "$cp_s") (CLI), $(ratio "$get_cli_min" "$cp_min") (fastest runs)}"
echo "zone-copy: written to ${results_md#"$root"/}" >&2
