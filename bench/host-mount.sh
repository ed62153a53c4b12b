#!/usr/bin/env bash
# Host mount benchmark: the same program on a directory of the host's tmpfs (/dev/shm) and on
# a zone in /dev/shm mounted with `stargate mount` (FUSE), side by side in one run:
# sequential write and read of one file in 1 MiB calls, then create, stat, readdir and unlink
# of many small files; then the zero-copy mapping API (ZoneFileMapping) against a plain
# memory copy. Each figure is the median of BENCH_RUNS runs, with its min-max.
#   bench/host-mount.sh                          # 1 GiB file, 2000 small files, 5 runs
#   BENCH_SIZE_MIB=256 BENCH_FILES=500 BENCH_RUNS=3 bench/host-mount.sh
# Needs root, /dev/fuse, libfuse3 and python3 (build.sh installs them). The Markdown table goes
# to stdout and to bench/results/host-mount.md.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$root"
stargate="$root/stargate"

mib=${BENCH_SIZE_MIB:-1024}
files=${BENCH_FILES:-2000}
runs=${BENCH_RUNS:-5}
zone_size=4G

zone=/dev/shm/stargate-bench.$$.zone
tmpfs_dir=/dev/shm/stargate-bench.$$.tmpfs
mnt=$(mktemp -d /tmp/stargate-bench-mount.XXXXXX)
logs=$(mktemp -d)
results_md="$root/bench/results/host-mount.md"
mount_pid=

cleanup() {
  if mountpoint -q "$mnt" 2>/dev/null; then fusermount3 -u "$mnt" || fusermount3 -u -z "$mnt" || true; fi
  [[ -n $mount_pid ]] && wait "$mount_pid" 2>/dev/null || true
  rm -rf "$tmpfs_dir" "$logs"
  rm -f "$zone" "$zone.data"
  rmdir "$mnt" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() { echo "host-mount: error: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "needs root (FUSE mounts)"
[[ -e /dev/fuse ]] || die "/dev/fuse is missing (modprobe fuse)"
command -v python3 >/dev/null || die "python3 is missing"

# One run of every workload in DIR; prints "workload value" lines (MiB/s or operations/s).
measure() {
  python3 - "$1" "$mib" "$files" <<'PY'
import os, sys, time
d, mib, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
block = os.urandom(1 << 20)
def timed(f):
    t = time.perf_counter_ns(); f(); return (time.perf_counter_ns() - t) / 1e9
big = os.path.join(d, "big")
def write():
    fd = os.open(big, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644)
    for _ in range(mib):
        os.write(fd, block)
    os.close(fd)
def read():
    fd = os.open(big, os.O_RDONLY)
    n = 0
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            break
        n += len(b)
    os.close(fd)
    assert n == mib << 20, n
print("seqwrite", mib / timed(write))
print("seqread", mib / timed(read))
os.unlink(big)
small = os.path.join(d, "small")
os.mkdir(small)
names = [os.path.join(small, "f%06d" % i) for i in range(files)]
print("create", files / timed(lambda: [os.close(os.open(n, os.O_CREAT | os.O_WRONLY, 0o644)) for n in names]))
print("stat", files / timed(lambda: [os.stat(n) for n in names]))
print("readdir", files / timed(lambda: len(os.listdir(small))))
print("unlink", files / timed(lambda: [os.unlink(n) for n in names]))
os.rmdir(small)
PY
}

"$stargate" zone create "$zone" --size "$zone_size" >/dev/null
mkdir -p "$tmpfs_dir"
"$stargate" mount "$zone" "$mnt" >"$logs/mount.log" 2>&1 &
mount_pid=$!
for _ in $(seq 1 300); do mountpoint -q "$mnt" && break; sleep 0.1; done
mountpoint -q "$mnt" || { cat "$logs/mount.log" >&2; die "stargate mount did not mount"; }

# Interleaved: tmpfs, then the mount, in each run, so drift hits both alike.
for r in $(seq 1 "$runs"); do
  measure "$tmpfs_dir" >"$logs/tmpfs.$r"
  measure "$mnt" >"$logs/mount.$r"
  echo "host-mount: run $r of $runs done" >&2
done

fusermount3 -u "$mnt"
wait "$mount_pid" || die "stargate mount exited with $?"
mount_pid=
dotnet run --project "$root/bench/Stargate.Bench" -c Release -- --map-read "$mib" "$runs" >"$logs/map-read" ||
  { cat "$logs/map-read" >&2; die "stargate-bench --map-read failed"; }

# stat KIND WORKLOAD: "median min max" over the runs
stats() {
  cat "$logs/$1".* | awk -v w="$2" '$1 == w { print $2 }' | sort -g |
    awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.0f %.0f %.0f", m, v[1], v[NR] }'
}

{
  echo "# host-mount: a zone mounted with \`stargate mount\` against the host's tmpfs"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- 2>/dev/null || echo -dirty), $(nproc) CPUs, kernel $(uname -r), $(dpkg-query -W -f='libfuse3 ${Version}' libfuse3-3 2>/dev/null)."
  echo "One run: write a ${mib} MiB file in 1 MiB write(2) calls, read it back in 1 MiB read(2) calls, then"
  echo "create, stat, list and unlink ${files} empty files in one directory (Python, bench/host-mount.sh)."
  echo "tmpfs and the mount alternate in each of ${runs} runs; each figure is the median, min-max in brackets."
  echo "The mount reads and writes with direct I/O (no host page cache: a guest's store must show at the next read)"
  echo "and revalidates every name and attribute at each access, so each metadata call is a FUSE round trip."
  echo
  echo "| workload | host tmpfs | stargate mount | mount ÷ tmpfs |"
  echo "| :-- | --: | --: | --: |"
  for w in seqwrite seqread create stat readdir unlink; do
    read -r tm tlo thi <<<"$(stats tmpfs $w)"
    read -r mm mlo mhi <<<"$(stats mount $w)"
    case $w in
      seqwrite) label="sequential write (MiB/s)" ;;
      seqread) label="sequential read (MiB/s)" ;;
      readdir) label="readdir (entries/s)" ;;
      *) label="$w (files/s)" ;;
    esac
    echo "| $label | $tm ($tlo-$thi) | $mm ($mlo-$mhi) | $(awk -v a="$mm" -v b="$tm" 'BEGIN { printf "%.3fx", a / b }') |"
  done
  echo
  echo "## The zero-copy mapping API against a plain memory copy"
  echo
  echo "\`stargate-bench --map-read ${mib} ${runs}\` (bench/Stargate.Bench/MapRead.cs), in one process: a ${mib} MiB file of a zone"
  echo "in /dev/shm mapped with ZoneFileMapping and copied into a buffer, against a copy of as much anonymous memory"
  echo "into the same buffer, and the library's FileData.Read."
  echo
  cat "$logs/map-read"
} | tee "$results_md"
