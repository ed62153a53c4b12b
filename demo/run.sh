#!/usr/bin/env bash
# The live demo (./build.sh --target=Demo): a zone in /dev/shm, filled and read back from
# the host, a writer killed in the middle of a change, recovery, a clean fsck; then the zone
# served to two QEMU guests that mount it with stargatefs, read the host's files (by read(2)
# and by a mapping of 2 MiB pages), create, rename and append to files through requests to
# the host service, and lock a file against each other and the host.
# Everything it makes is removed at the end.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
sg="$root/stargate"
zone=/dev/shm/stargate-demo.$$.zone
work=$(mktemp -d /dev/shm/stargate-demo.$$.XXXX)
trap 'rm -rf "$zone" "$zone.data" "$work"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ stargate %s\n' "$*"; "$sg" "$@"; }

step "Format a 4 GiB zone: two sparse files, the structure (only the host writes it) and the data; formatting writes a few pages, whatever the size"
run zone create "$zone" --size 4G
du -h --apparent-size "$zone" "$zone.data" | sed 's/^/apparent size: /'
du -h "$zone" "$zone.data" | sed 's/^/memory used:   /'

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
make -s -C "$root/guest-module-templates/tools" O="$work/tools"
mkdir -p "$work/initramfs/bin" "$work/initramfs/lib"
cp /bin/busybox "$work/tools/sgtool" "$work/tools/sgfstest" "$work/initramfs/bin/"
cp "$module" "$work/initramfs/lib/stargatefs.ko"
ln -s busybox "$work/initramfs/bin/sh" # /init is a #!/bin/sh script
cp "$root/integration-tests/Stargate.Guests/Boot/init.sh" "$work/initramfs/init"
# Each guest mounts the zone and reads the host's files (big.bin through a mapping made of
# 2 MiB pages). Then they change the namespace through requests to the host service: guest 1
# creates a board (the host allocates its space on request) and waits in a mapping for
# guest 2's store; guest 2 renames guest 1's note; both append 100 records to one log under
# flock(); each rings the host's doorbell when done.
cat >"$work/initramfs/demo.sh" <<'GUEST'
id=$(sgtool info "$SG_BELL" | sg_value ivposition)
z=/mnt/zone/shared
insmod /lib/stargatefs.ko
mkdir -p /mnt/zone
mount -t stargatefs "$SG_DEV" /mnt/zone
sg_say "guest $id: mount -t stargatefs $SG_DEV /mnt/zone: $(ls $z | tr '\n' ' ')"
sg_say "guest $id: cat hello.txt: $(cat $z/hello.txt)"
sg_say "guest $id: big.bin read(2): $(sgfstest sum $z/big.bin)"
sg_say "guest $id: big.bin mmap: $(sgfstest mmhuge $z/big.bin | tr ' ' '\n' | grep -E '^(size|chunks|faults)=' | tr '\n' ' ')2 MiB faults served: $(cat /sys/bus/pci/devices/$SG_DEV/stargatefs_pmd_faults)"
if [ "$id" = 1 ]; then
  echo "guest 1 wrote this note" >$z/note-from-guest1
  dd if=/dev/zero of=$z/board bs=1M count=4 2>/dev/null
  sg_say "guest 1: created note-from-guest1 and a 4 MiB board; waiting for guest 2's word at board offset 1 MiB"
  sg_say "guest 1: $(sgfstest mmwait $z/board 1048576 0x6f6c6c6568 60000 | tail -n 1)"
  until [ -e $z/renamed-by-guest2 ]; do sleep 0.1; done
  sg_say "guest 1: ls shared: $(ls $z | tr '\n' ' ')"
else
  until [ "$(stat -c %s $z/board 2>/dev/null)" = 4194304 ]; do sleep 0.1; done
  sg_say "guest 2: cat note-from-guest1: $(cat $z/note-from-guest1)"
  sgfstest mmpoke $z/board 1048576 0x6f6c6c6568 >/dev/null
  sg_say "guest 2: stored 0x6f6c6c6568 at board offset 1 MiB through its mapping"
  mv $z/note-from-guest1 $z/renamed-by-guest2
  sg_say "guest 2: mv note-from-guest1 renamed-by-guest2"
fi
sg_say "guest $id: $(sgfstest lockappend $z/log 100 guest$id flock) appended to shared/log under flock()"
sgtool ring "$SG_BELL" 0 0 >/dev/null
sg_say "guest $id: rang the host's doorbell; done"
sleep 60
GUEST
chmod +x "$work/initramfs/init" "$work/initramfs/demo.sh"
(cd "$work/initramfs" && find . | cpio -o -H newc --quiet | gzip) >"$work/initramfs.gz"

"$sg" serve "$zone" --socket "$work/serve.sock" --vectors 2 2>"$work/serve.log" &
serve_pid=$!
trap 'kill $serve_pid ${guests[@]:-} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$zone" "$zone.data" "$work"' EXIT
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

step "The host reads what the guests made, and changes the namespace too, while the service runs"
run ls -l "$zone" /shared
echo "\$ stargate cat $zone /shared/renamed-by-guest2"
"$sg" cat "$zone" /shared/renamed-by-guest2
printf 'board offset 1 MiB: 0x%s\n' "$(od -An -tx8 -j $((1 << 20)) -N8 <("$sg" cat "$zone" /shared/board) | tr -d ' ')"
"$sg" get "$zone" /shared/log "$work/log"
echo "shared/log: $("$work/tools/sgfstest" checkrecords "$work/log" guest1 100 guest2 100) (every record of both guests, once, in order)"
run rm "$zone" /shared/renamed-by-guest2   # the zone is the service's: the command runs inside it
run lock "$zone" /shared/log -- echo "the host holds shared/log's flock() now, as a guest would"

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
echo "Next: the benchmark harness against tmpfs, virtio-9p, virtio-fs, NFS and Samba (README, Status)."
