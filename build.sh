#!/usr/bin/env bash
# Stargate's build entry point: installs what a fresh Debian 12 machine lacks, restores the
# local dotnet tools (Cake), then runs build.cake with every argument passed through.
#   ./build.sh                     # the Default target (Test)
#   ./build.sh --target=Build
#   ./build.sh --target=Test --verbosity=diagnostic
#   ./build.sh --target=Bench --quick
#   ./build.sh --install-only      # only the Debian packages (build.cake's Install-Packages runs
#                                  # this when started as `dotnet cake` without build.sh)
set -euo pipefail

# Debian packages the build and the tests need, one per line, each with the reason.
# Installed only when missing (dpkg-query), so a prepared machine never touches apt.
packages=(
  libclang1-14    # libclang.so.1: the ABI generator parses interop/include/stargate_zone.h with it
  gcc             # the ABI layout test compiles a C file of _Static_asserts against the header
  libc6-dev       # ... which includes <stddef.h>/<stdint.h> from libc
  linux-libc-dev  # ... and <linux/types.h> (__u8..__u64) for the uapi-style header
  qemu-system-x86   # integration-tests boot the guests in it (-accel tcg -cpu max), ivshmem-plain/-doorbell
  busybox-static    # the guests' whole userland: a static busybox in the test initramfs
  make              # builds guest-module-templates/tools (sgtool) for the guests, and later Kbuild
  cpio              # a test lists the generated initramfs with cpio -t to prove it is valid newc
  libvirt-clients   # virt-xml-validate: the libvirt <shmem> XML that stargate emits is schema-checked
  libxml2-utils     # ... virt-xml-validate runs xmllint from this package
  kmod                       # modinfo, depmod: reading and installing the built stargatefs.ko
                             # ... and modprobe --show-depends: the bench guests' kernel modules
  xz-utils                   # the bench guests' modules (.ko.xz) are unpacked for busybox insmod
  nfs-ganesha                # bench baseline: an NFS 4.1 server on 127.0.0.1 ...
  nfs-ganesha-vfs            # ... exporting a folder through its VFS backend
  samba                      # bench baseline: smbd on 127.0.0.1 (guests mount it with cifs)
  gnuplot-nox                # the bench's PNG bar chart
  libfuse3-3                 # libfuse3.so.3: `stargate mount` binds it (LibraryImport) to mount a zone on the host
  fuse3                      # fusermount3: unmounting, and mounting as a user without CAP_SYS_ADMIN
  python3                    # the host tests' small programs: POSIX conformance of the host mount, other users' clients
)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$root"

# The guests' kernels and their headers: every row of the kernel matrix (codegen/kernels.tsv,
# its last column), so that a kernel added there is installed here with no second list.
while IFS= read -r pkg; do
  packages+=("$pkg")
done < <(awk '!/^[[:space:]]*#/ && NF >= 6 { n = split($6, p, ","); for (i = 1; i <= n; i++) print p[i] }' codegen/kernels.tsv)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "build.sh: warning: not root, so not installing missing Debian packages: ${missing[*]}" >&2
    echo "build.sh: warning: install them with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  else
    echo "build.sh: installing missing Debian packages: ${missing[*]}" >&2
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
  fi
fi

# Cake's Install-Packages task checks this and does not run the list again.
export STARGATE_PACKAGES_CHECKED=1
if [[ "${1:-}" == "--install-only" ]]; then
  exit 0
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "build.sh: error: 'dotnet' not found; install the .NET 10 SDK (https://dot.net) and put it on PATH." >&2
  exit 1
fi

# Quiet, reproducible dotnet in CI and on first runs.
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet tool restore
exec dotnet cake build.cake "$@"
