#!/usr/bin/env bash
# The live demo (./build.sh --target=Demo): a zone in /dev/shm, filled and read back from
# the host, a writer killed in the middle of a change, recovery, a clean fsck; then the zone
# served to two QEMU guests that mount it with stargatefs, read the host's files (by read(2)
# and by a mapping of 2 MiB pages) and write for each other and for the host.
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

step "Serve the zone to QEMU guests, which mount it with the stargatefs module"
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
release=${kernel#/boot/vmlinuz-}
module="$root/artifacts/modules/$release/stargatefs.ko"
if [[ -z "$kernel" ]] || ! command -v qemu-system-x86_64 >/dev/null || [[ ! -x /bin/busybox ]]; then
  echo "no guest kernel, QEMU or static busybox here (./build.sh installs them): skipping the guests"
  exit 0
fi
if [[ ! -f "$module" ]]; then
  echo "no stargatefs module for $release: run ./build.sh --target=Build-Guest-Modules (the Demo target does)"
  exit 1
fi
# A board the guests write on: the host allocates it (guests cannot allocate yet).
head -c $((4 << 20)) /dev/zero >"$work/board"
run put "$zone" "$work/board" /shared/board
make -s -C "$root/guest-module-templates/tools" O="$work/tools"
mkdir -p "$work/initramfs/bin" "$work/initramfs/lib"
cp /bin/busybox "$work/tools/sgtool" "$work/tools/sgfstest" "$work/initramfs/bin/"
cp "$module" "$work/initramfs/lib/stargatefs.ko"
ln -s busybox "$work/initramfs/bin/sh" # /init is a #!/bin/sh script
cp "$root/integration-tests/Stargate.IntegrationTests/Guest/init.sh" "$work/initramfs/init"
# Each guest mounts the zone, reads the host's files (big.bin through a mapping made of
# 2 MiB pages), and writes on the board: guest 1 a line with write(2), guest 2 a word
# through a shared mapping that guest 1 waits for; then it rings the host's doorbell.
cat >"$work/initramfs/demo.sh" <<'GUEST'
id=$(sgtool info "$SG_DEV" | sg_value ivposition)
insmod /lib/stargatefs.ko
mkdir -p /mnt/zone
mount -t stargatefs "$SG_DEV" /mnt/zone
sg_say "guest $id: mount -t stargatefs $SG_DEV /mnt/zone: $(ls /mnt/zone/shared | tr '\n' ' ')"
sg_say "guest $id: cat hello.txt: $(cat /mnt/zone/shared/hello.txt)"
sg_say "guest $id: big.bin read(2): $(sgfstest sum /mnt/zone/shared/big.bin)"
sg_say "guest $id: big.bin mmap: $(sgfstest mmhuge /mnt/zone/shared/big.bin | tr ' ' '\n' | grep -E '^(size|chunks|faults)=' | tr '\n' ' ')2 MiB faults served: $(cat /sys/bus/pci/devices/$SG_DEV/stargatefs_pmd_faults)"
if [ "$id" = 1 ]; then
  printf "guest 1 wrote this line with write(2)\n" >/tmp/line
  dd if=/tmp/line of=/mnt/zone/shared/board conv=notrunc 2>&1 | sed "s/^/STARGATE: guest 1: dd: /"
  sg_say "guest 1: waiting for guest 2's word at board offset 1 MiB"
  sg_say "guest 1: $(sgfstest mmwait /mnt/zone/shared/board 1048576 0x6f6c6c6568 60000 | tail -n 1)"
else
  sleep 2
  sgfstest mmpoke /mnt/zone/shared/board 1048576 0x6f6c6c6568 >/dev/null
  sg_say "guest 2: stored 0x6f6c6c6568 at board offset 1 MiB through its mapping"
fi
sgtool ring "$SG_DEV" 0 0 >/dev/null
sg_say "guest $id: rang the host's doorbell; done"
sleep 60
GUEST
chmod +x "$work/initramfs/init" "$work/initramfs/demo.sh"
(cd "$work/initramfs" && find . | cpio -o -H newc --quiet | gzip) >"$work/initramfs.gz"

"$sg" serve "$zone" --socket "$work/serve.sock" --vectors 2 2>"$work/serve.log" &
serve_pid=$!
trap 'kill $serve_pid ${guests[@]:-} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$zone" "$work"' EXIT
for i in $(seq 100); do [[ -S "$work/serve.sock" ]] && break; sleep 0.1; done
accel=(-accel tcg -cpu max); [[ "${STARGATE_ACCEL:-}" == kvm ]] && accel=(-accel kvm -cpu host)
guests=()
for g in 1 2; do
  # shellcheck disable=SC2046 # qemu-args prints words meant to be split
  qemu-system-x86_64 "${accel[@]}" -m 512M -smp 1 -nodefaults -nographic -no-reboot \
    -kernel "$kernel" -initrd "$work/initramfs.gz" -serial "file:$work/guest$g.log" \
    -append "console=ttyS0 panic=-1 quiet stargate.script=/demo.sh" \
    $("$sg" qemu-args "$zone" --mode doorbell --socket "$work/serve.sock" --vectors 2) &
  guests+=($!)
  sleep 1 # ids follow connection order
done
echo "booting two guests ($release) under ${accel[1]}; each reads 300 MiB (about 40 s)..."
for i in $(seq 900); do
  [[ $(grep -c "STARGATE: guest .: rang the host's doorbell; done" "$work"/guest*.log 2>/dev/null | awk -F: '{s += $2} END {print s}') == 2 ]] && break
  sleep 0.2
done
grep -h "STARGATE: guest" "$work"/guest*.log | sort -s -k3,3
echo "host's crc of big.bin: $("$work/tools/sgfstest" sum "$work/big.bin")"
run peers --socket "$work/serve.sock"

step "The host reads what the guests wrote, straight from the zone"
echo "\$ stargate cat $zone /shared/board | head -n 1"
"$sg" cat "$zone" /shared/board | head -n 1
printf 'board offset 1 MiB: 0x%s\n' "$(od -An -tx8 -j $((1 << 20)) -N8 <("$sg" cat "$zone" /shared/board) | tr -d ' ')"

step "A guest dies (SIGKILL to its QEMU): the service notices at once; the other carries on"
kill -9 "${guests[1]}"; wait "${guests[1]}" 2>/dev/null || true
sleep 1
run peers --socket "$work/serve.sock"
grep -E "left|joined" "$work/serve.log" | sed 's/^/serve: /'

step "Stop the service (SIGTERM): sockets removed, zone closed clean"
kill -TERM "$serve_pid"; wait "$serve_pid" || true
kill "${guests[0]}" 2>/dev/null || true
ls "$work"/serve.sock* 2>/dev/null || echo "no socket files left"
run zone fsck "$zone"

step "Done"
echo "Next: guests create, rename and remove files themselves (README, Status)."
