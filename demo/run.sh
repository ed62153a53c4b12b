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

step "Serve the zone to QEMU guests (the ivshmem server; the service itself is peer 0)"
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
if [[ -z "$kernel" ]] || ! command -v qemu-system-x86_64 >/dev/null || [[ ! -x /bin/busybox ]]; then
  echo "no guest kernel, QEMU or static busybox here (./build.sh installs them): skipping the guests"
  exit 0
fi
make -s -C "$root/guest-module-templates/tools" O="$work/tools"
mkdir -p "$work/initramfs/bin"
cp /bin/busybox "$work/tools/sgtool" "$work/initramfs/bin/"
ln -s busybox "$work/initramfs/bin/sh" # /init is a #!/bin/sh script
cp "$root/integration-tests/Stargate.IntegrationTests/Guest/init.sh" "$work/initramfs/init"
# Each guest: read its id and the zone through BAR0/BAR2, let host doorbells reach it (MSI-X
# on an unused IDT vector: the kernel then prints "No irq handler for vector"), leave a word
# in the zone, ring the host, and wait for the host's word.
cat >"$work/initramfs/demo.sh" <<'GUEST'
info=$(sgtool info "$SG_DEV")
id=$(echo "$info" | sg_value ivposition)
size=$(echo "$info" | sg_value zone_size)
sg_say "guest $id: BAR2 is the zone: magic $(echo "$info" | sg_value magic), $size bytes"
sgtool msix "$SG_DEV" 0 0xdf >/dev/null
sgtool write "$SG_DEV" $((size - 8 * id)) $((0x6775657374000000 + id)) >/dev/null
sgtool ring "$SG_DEV" 0 0 >/dev/null
sg_say "guest $id: wrote a word into the zone and rang the host"
for i in $(seq 600); do
  word=$(sgtool read "$SG_DEV" $((size - 64)) | sg_value value)
  [ "$word" != 0x0000000000000000 ] && break
  sleep 0.1
done
sg_say "guest $id: read the host's word $word"
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
  qemu-system-x86_64 "${accel[@]}" -m 256M -smp 1 -nodefaults -nographic -no-reboot \
    -kernel "$kernel" -initrd "$work/initramfs.gz" -serial "file:$work/guest$g.log" \
    -append "console=ttyS0 panic=-1 quiet stargate.script=/demo.sh" \
    $("$sg" qemu-args "$zone" --mode doorbell --socket "$work/serve.sock" --vectors 2) &
  guests+=($!)
  sleep 1 # ids follow connection order
done
echo "booting two guests under ${accel[1]} (about 10 s)..."
for i in $(seq 600); do
  [[ $(grep -c "rang the host" "$work"/guest*.log 2>/dev/null | awk -F: '{s += $2} END {print s}') == 2 ]] && break
  sleep 0.2
done
grep -h "STARGATE: guest" "$work"/guest*.log
run peers --socket "$work/serve.sock"

step "The host answers: a word into the zone, and a doorbell to each guest"
printf 'HOST says hi' | head -c 8 | dd of="$zone" bs=1 seek=$(( $(stat -c %s "$zone") - 64 )) conv=notrunc status=none
for g in 1 2; do "$sg" ring --socket "$work/serve.sock" --peer $g --vector 0; done
sleep 2
grep -h -E "read the host's word|No irq handler for vector" "$work"/guest*.log
echo "(the interrupt line is the guest kernel's: vector 0xdf = 223 arrived, with no driver to take it)"
for g in 1 2; do
  word=$(od -An -tx8 -j $(( $(stat -c %s "$zone") - 8 * g )) -N8 "$zone" | tr -d ' ')
  echo "host reads guest $g's word from the zone file: 0x$word"
done

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
echo "Next: the guest module mounts this zone as a file system (README, Status)."
