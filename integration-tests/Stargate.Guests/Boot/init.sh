#!/bin/sh
# /init of the integration-test guests (busybox ash). Everything the test host reads comes
# from lines on the console (ttyS0) that start with "STARGATE:":
#   STARGATE: boot uptime=S       init started, S seconds after the kernel did
#   STARGATE: devices=N           ivshmem devices seen (sgtool list)
#   STARGATE: dev=ADDR            the first one's PCI address, also in $SG_DEV ("none": none)
#   STARGATE: KEY=VALUE           printed by the test's script (see sg_say below)
#   STARGATE: script=RC           the script named by stargate.script= has ended with RC
#   STARGATE: ready               interactive: commands are read from ttyS1 from now on
#   STARGATE: done                last line: the guest powers off next
# Interactive mode (stargate.interactive=1 on the kernel command line): each line on ttyS1 is
# "ID COMMAND"; COMMAND runs in this shell (so its variables persist), each line of its
# output comes back as "STARGATE[ID]: LINE" and its exit status as "STARGATE[ID] rc=RC".
# The command "exit" ends the loop.

/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin
export PATH=/bin

sg_say() {
	echo "STARGATE: $*"
}

# sg_check LINE CONDITION: fails the script with "fail=FILE:LINE: CONDITION" unless
# CONDITION (a shell test) holds. Scripts call it as: sg_check $LINENO '[ "$x" = 1 ]'
sg_check() {
	if ! eval "$2"; then
		sg_say "fail=${SG_SCRIPT:-init}:$1: $2"
		exit 1
	fi
}

# sg_value KEY: the value of KEY= in the key=value words on stdin (sgtool's output).
sg_value() {
	tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

sg_say "boot uptime=$(cut -d' ' -f1 /proc/uptime)"

# Modules of the kernel's own tree that the guest was given (GuestOptions.KernelModules), in
# dependency order.
if [ -f /stargate/modules ]; then
	for module in $(cat /stargate/modules); do
		insmod "$module" || sg_say "fail=init: insmod $module"
	done
fi

SG_DEVS=$(sgtool list | sed -n 's/^dev=\([^ ]*\).*/\1/p')
SG_DEV=$(echo "$SG_DEVS" | head -n 1)
# The doorbell device (a served guest's private area), if any.
SG_BELL=$(sgtool list | sed -n 's/^dev=\([^ ]*\) kind=doorbell.*/\1/p' | head -n 1)
export SG_DEVS SG_DEV SG_BELL
sg_say "devices=$(sgtool list | sg_value count)"
sg_say "dev=${SG_DEV:-none}"

for word in $(cat /proc/cmdline); do
	case "$word" in
	stargate.script=*) SG_SCRIPT=${word#stargate.script=} ;;
	stargate.interactive=1) SG_INTERACTIVE=1 ;;
	esac
done
export SG_SCRIPT

if [ -n "$SG_SCRIPT" ]; then
	# In a subshell: the script's exit (or sg_check) must not end init.
	(. "$SG_SCRIPT") 2>&1
	sg_say "script=$?"
fi

if [ -n "$SG_INTERACTIVE" ]; then
	stty -F /dev/ttyS1 raw -echo
	exec 3</dev/ttyS1
	sg_say ready
	# Each line is read in a subshell, which has no children: busybox 1.35's read builtin,
	# interrupted by SIGCHLD mid-line (a background job of an earlier command ending), starts
	# over and drops the bytes it had read.
	while line=$(IFS= read -r l <&3 && printf '%s' "$l"); do
		id=${line%% *}
		command=${line#* }
		[ "$command" = exit ] && break
		eval "$command" >/tmp/out 2>&1
		rc=$?
		sed "s/^/STARGATE[$id]: /" /tmp/out
		echo "STARGATE[$id] rc=$rc"
	done
fi

sg_say done
sync
poweroff -f
