#!/usr/bin/env bash
# The live demo (./build.sh --target=Demo): a zone in /dev/shm, filled and read back from
# the host, a writer killed in the middle of a copy, recovery, and a clean fsck.
# Everything it makes is removed at the end.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
sg="$root/stargate"
zone=/dev/shm/stargate-demo.$$.zone
work=$(mktemp -d /dev/shm/stargate-demo.$$.XXXX)
trap 'rm -rf "$zone" "$work"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ stargate %s\n' "$*"; "$sg" "$@"; }

step "Format a 4 GiB zone (a sparse file: formatting writes a few pages, whatever the size)"
run zone create "$zone" --size 4G
du -h --apparent-size "$zone" | sed 's/^/apparent size: /'
du -h "$zone" | sed 's/^/memory used:   /'

step "Fill it from the host"
head -c $((300 << 20)) /dev/urandom >"$work/big.bin"
printf 'hello from the host\n' >"$work/hello.txt"
run mkdir -p "$zone" /shared/logs
run put "$zone" "$work/big.bin" /shared/big.bin
run put "$zone" "$work/hello.txt" /shared/hello.txt
run ls -l "$zone" /shared
run stat "$zone" /shared/big.bin
run cat "$zone" /shared/hello.txt

step "Read it back: identical bytes"
run get "$zone" /shared/big.bin "$work/big.out"
cmp "$work/big.bin" "$work/big.out" && echo "big.bin: identical ($(sha256sum <"$work/big.out" | cut -c1-16)...)"

step "Kill a writer in the middle of a change (it SIGKILLs itself at its 12th journal step)"
set +e
STARGATE_CRASH_AFTER=12 "$sg" mv "$zone" /shared/hello.txt /shared/logs/hello.txt
echo "exit code $? (137 = killed)"
set -e
run zone info "$zone"
run zone fsck "$zone" || true

step "The next writer undoes the interrupted change: the zone is as before the mv, never torn"
run mkdir "$zone" /shared/after-crash
run ls "$zone" /shared
run zone fsck "$zone"

step "Done"
echo "Next, guests attach this same zone as an ivshmem PCI device: not built yet (README, Status)."
