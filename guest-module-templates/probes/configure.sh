#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# configure.sh: finds which forms of the kernel's APIs a kernel has, and writes
# stargatefs_config.h for it (one STARGATEFS_HAVE_<PROBE> per probe that compiles, read by
# ../stargatefs/compat.h). The one implementation of probing: stargate-codegen runs it on the
# host, and the DKMS tree runs it (from its Makefile) in the guest, for every kernel DKMS builds
# for. It needs a POSIX shell, awk, make, the compiler and the kernel's headers; nothing else.
#
#   sh configure.sh [-o HEADER] [-r RESULTS] [-l LOG] KERNEL_BUILD_DIR
#       Compiles every probe (NAME.c beside this script) against the kernel in one Kbuild pass
#       (make -k, object targets only, warnings are errors): a probe is true iff its object
#       exists. Then checks probes.list and writes HEADER (default stargatefs_config.h).
#   sh configure.sh [-o HEADER] [-r RESULTS] -f RESULTS_IN
#       The same header and checks for probe results recorded earlier, without a kernel.
#
#   -r RESULTS  also write the results: one line per probe, sorted, "NAME yes" or "NAME no"
#   -l LOG      Kbuild's output of the probes (default ${TMPDIR:-/tmp}/stargate-probes-RELEASE.log)
#
# Output: HEADER is replaced only when everything succeeded; the same results give the same
# bytes. A problem is a line "file(line,col): error: message" on stderr: a broken probe or
# probes.list at its place, a missing API at the kernel header that should declare it (naming
# the API and every form tried). A missing optional probe is one line "configure.sh: RELEASE:
# no PROBE (API): WHAT". The last line on failure says what failed.
# Exit: 0 done, 1 failed, 2 wrong command line.
set -eu

LC_ALL=C
export LC_ALL

me=configure.sh
here=$(cd "$(dirname "$0")" && pwd)
list=$here/probes.list

usage() {
	echo "usage: sh $me [-o HEADER] [-r RESULTS] [-l LOG] KERNEL_BUILD_DIR | -f RESULTS_IN" >&2
	exit 2
}

fail() {
	echo "$me: $*" >&2
	exit 1
}

output=stargatefs_config.h
results=
log=
from=
while getopts o:r:l:f: opt; do
	case $opt in
	o) output=$OPTARG ;;
	r) results=$OPTARG ;;
	l) log=$OPTARG ;;
	f) from=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
if [ -n "$from" ]; then
	[ $# -eq 0 ] || usage
else
	[ $# -eq 1 ] || usage
fi
kdir=${1:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/stargate-probes.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM
errors=$work/errors
: >"$errors"

# The probes: NAME<TAB>API<TAB>HEADER<TAB>SYMBOL, sorted by name, from each NAME.c's comment
# header (// Probe: NAME, // API: text, // Header: include/linux/x.h, optionally // Symbol:
# the text in that header that diagnostics point at).
set -- "$here"/*.c
[ -e "$1" ] || fail "$here: no probes (NAME.c)"
awk -v errors="$errors" '
	function error(message) { printf "%s(1,1): error: %s\n", file, message >> errors; bad = 1 }
	function finish(   name) {
		if (file == "")
			return
		name = file
		sub(/.*\//, "", name)
		sub(/\.c$/, "", name)
		bad = 0
		if (name !~ /^[a-z_][a-z0-9_]*$/)
			error("probe name '\''" name "'\'' is not a C identifier of lower-case letters, digits and '\''_'\'': it becomes a STARGATEFS_HAVE_ define")
		if (field["Probe"] != name)
			error("the comment header must start with '\''// Probe: " name "'\'' (the file'\''s name)")
		if (!("API" in field))
			error("the comment header has no '\''// API:'\'' line")
		if (!("Header" in field))
			error("the comment header has no '\''// Header:'\'' line")
		if (!bad)
			printf "%s\t%s\t%s\t%s\n", name, field["API"], field["Header"], field["Symbol"]
		split("", field)
	}
	FNR == 1 { finish(); file = FILENAME }
	/^\/\/[ \t]*(Probe|API|Header|Symbol):/ {
		key = $0
		sub(/^\/\/[ \t]*/, "", key)
		value = key
		sub(/:.*/, "", key)
		sub(/^[^:]*:[ \t]*/, "", value)
		sub(/[ \t]+$/, "", value)
		if (!(key in field))
			field[key] = value
	}
	END { finish() }
' "$@" | sort >"$work/probes"

# probes.list, checked: every name a probe, every probe on exactly one line. Written out as
# KIND<TAB>NAMES(comma-separated)<TAB>TEXT.
[ -f "$list" ] || fail "$list: no such file (it lists what the module needs: allof, oneof, optional)"
awk -v errors="$errors" -v list="$list" -F '\t' '
	function error(line, column, message) { printf "%s(%d,%d): error: %s\n", list, line, column, message >> errors }
	FILENAME != list { probe[$1] = 1; next }
	/^[ \t]*(#|$)/ { next }
	{
		line = $0
		kind = $0; sub(/^[ \t]*/, "", kind); sub(/[ \t].*/, "", kind)
		rest = $0; sub(/^[ \t]*[^ \t]+[ \t]*/, "", rest)
		names = rest; sub(/[ \t].*/, "", names)
		text = rest; sub(/^[^ \t]+[ \t]*/, "", text); sub(/[ \t]+$/, "", text)
		if (kind != "allof" && kind != "oneof" && kind != "optional") {
			error(FNR, index(line, kind), "unknown kind '\''" kind "'\'': a line is allof NAME, oneof NAME,NAME,... API or optional NAME WHAT")
			next
		}
		n = split(names, form, ",")
		if (names == "" || (kind == "oneof" && n < 2) || (kind != "oneof" && n != 1) || (kind != "allof" && text == "")) {
			error(FNR, 1, "a line is allof NAME, oneof NAME,NAME,... API or optional NAME WHAT")
			next
		}
		for (i = 1; i <= n; i++) {
			if (!(form[i] in probe))
				error(FNR, index(line, form[i]), "'\''" form[i] "'\'' is not a probe: there is no " form[i] ".c beside this file")
			else if (form[i] in seen)
				error(FNR, index(line, form[i]), "'\''" form[i] "'\'' is on line " seen[form[i]] " already: every probe is on one line")
			else
				seen[form[i]] = FNR
		}
		printf "%s\t%s\t%s\n", kind, names, text
	}
	END {
		for (name in probe)
			if (!(name in seen))
				printf "%s\n", name > (errors ".unlisted")
	}
' "$work/probes" "$list" >"$work/list"
if [ -f "$errors.unlisted" ]; then
	sort "$errors.unlisted" | while read -r name; do
		echo "$here/$name.c(1,1): error: $name is on no line of probes.list: say what the module needs it for, or delete it" >>"$errors"
	done
fi
if [ -s "$errors" ]; then
	cat "$errors" >&2
	fail "the probes in $here are not usable ($(wc -l <"$errors" | tr -d ' ') errors)"
fi

# The results: NAME yes|no for every probe, sorted.
if [ -n "$from" ]; then
	[ -f "$from" ] || fail "$from: no such file (probe results: one 'NAME yes' or 'NAME no' a line)"
	awk -v from="$from" -v errors="$errors" '
		FILENAME != from { split($0, f, "\t"); probe[f[1]] = 1; next }
		NF == 0 { next }
		NF != 2 || ($2 != "yes" && $2 != "no") { printf "%s(%d,1): error: not NAME yes or NAME no\n", from, FNR >> errors; next }
		!($1 in probe) { printf "%s(%d,1): error: %s is not a probe any more: probe the kernel again\n", from, FNR, $1 >> errors; next }
		{ result[$1] = $2 }
		END {
			for (name in probe)
				if (name in result)
					print name, result[name]
				else
					printf "%s(1,1): error: no result for %s: it was recorded before that probe existed; probe the kernel again\n", from, name >> errors
		}
	' "$work/probes" "$from" | sort >"$work/results"
	release=
	roots=
else
	[ -d "$kdir" ] || fail "$kdir: no such directory; install the kernel's headers (apt-get install linux-headers-RELEASE)"
	kdir=$(cd "$kdir" && pwd)
	for required in Makefile include/generated/utsrelease.h; do
		[ -f "$kdir/$required" ] || fail "$kdir: not a kernel build directory (no $required); pass /lib/modules/RELEASE/build or /usr/src/linux-headers-RELEASE"
	done
	release=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$kdir/include/generated/utsrelease.h")
	[ -n "$release" ] || fail "$kdir/include/generated/utsrelease.h: no UTS_RELEASE; the headers are incomplete: reinstall them"
	[ -n "$log" ] || log=${TMPDIR:-/tmp}/stargate-probes-$release.log

	# Where the kernel's own headers are, for diagnostics: the build directory and, for Debian's
	# split packages, the -common directory whose Makefile it includes.
	roots=$kdir
	for included in $(sed -n 's/^include[ \t]\{1,\}\(.*\)\/Makefile[ \t]*$/\1/p' "$kdir/Makefile"); do
		case $included in /*) ;; *) included=$kdir/$included ;; esac
		[ -d "$included/include" ] && roots="$roots $included"
	done

	mkdir "$work/build"
	objects=
	while IFS='	' read -r name _; do
		cp "$here/$name.c" "$work/build/"
		objects="$objects $name.o"
	done <"$work/probes"
	# Warnings are errors: a wrong function-pointer type is only a warning in C, and a probe
	# of the wrong form must fail. Object targets, not modules: no modpost, no link.
	printf 'obj-m :=%s\nccflags-y := -Werror\n' "$objects" >"$work/build/Kbuild"
	jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
	# A make that runs this script (DKMS's, the tree's Makefile) must not hand its goals,
	# variables and job server to this one; English, uncoloured compiler output.
	# shellcheck disable=SC2086
	(MAKEFLAGS= MAKELEVEL= MFLAGS= MAKEOVERRIDES= GNUMAKEFLAGS= GCC_COLORS= LANG=C \
		make -k -j"$jobs" -C "$kdir" M="$work/build" $objects) >"$log" 2>&1 || true
	compiled=0
	while IFS='	' read -r name _; do
		if [ -f "$work/build/$name.o" ]; then
			echo "$name yes"
			compiled=$((compiled + 1))
		else
			echo "$name no"
		fi
	done <"$work/probes" >"$work/results"
	# Every probe failing means a broken compiler or headers, not a kernel without every API.
	[ "$compiled" -gt 0 ] || fail "no probe compiled against $kdir: the compiler or the headers are broken (Kbuild's output is in $log)"
fi

# file(line,col) of the first line of a kernel header that names symbol, or (1,1) of the header.
locate() {
	for root in $roots; do
		[ -f "$root/$1" ] || continue
		position=
		[ -z "$2" ] || position=$(awk -v s="$2" 'index($0, s) { print FNR "," index($0, s); exit }' "$root/$1")
		echo "$root/$1(${position:-1,1})"
		return
	done
	echo "$1(1,1)"
}
field() { # PROBE COLUMN: API (2), Header (3), Symbol (4)
	awk -F '\t' -v name="$1" -v column="$2" '$1 == name { print $column }' "$work/probes"
}
have() {
	grep -qx "$1 yes" "$work/results"
}
missing=0
error_at() { # PROBE MESSAGE
	echo "$(locate "$(field "$1" 3)" "$(field "$1" 4)"): error: $2" >>"$errors"
	missing=$((missing + 1))
}

while IFS='	' read -r kind names text; do
	case $kind in
	allof)
		have "$names" || error_at "$names" "this kernel lacks $(field "$names" 2) (probe $names does not compile): the module needs it"
		;;
	optional)
		have "$names" || [ -n "$from" ] || echo "$me: $release: no $names ($(field "$names" 2)): $text" >&2
		;;
	oneof)
		found=
		tried=
		for form in $(echo "$names" | tr ',' ' '); do
			have "$form" && found="${found:+$found and }$form"
			tried="${tried:+$tried; }$form: $(field "$form" 2)"
		done
		first=${names%%,*}
		case $found in
		'') error_at "$first" "$text: no form the module knows compiles on this kernel (tried $tried); add a probe for this kernel's form to probes.list and a branch to compat.h" ;;
		*' and '*) error_at "$first" "$text: $found compile, but exactly one form must: make the probes tell them apart" ;;
		esac
		;;
	esac
done <"$work/list"

if [ -s "$errors" ]; then
	cat "$errors" >&2
	if [ -n "$from" ]; then
		fail "the probe results in $from do not meet the module's needs ($(wc -l <"$errors" | tr -d ' ') errors)"
	fi
	fail "the module does not support kernel $release ($missing missing API$([ "$missing" -eq 1 ] || echo s); the probes' compiler output is in $log)"
fi

{
	echo '/* SPDX-License-Identifier: GPL-2.0 */'
	echo '/*'
	echo ' * The forms of the kernel APIs that the compile probes found, written by'
	echo ' * probes/configure.sh for the kernel being built for: do not edit.'
	echo ' * compat.h reads it.'
	echo ' */'
	echo '#ifndef _STARGATEFS_CONFIG_H'
	echo '#define _STARGATEFS_CONFIG_H'
	echo
	while read -r name result; do
		define=STARGATEFS_HAVE_$(echo "$name" | tr 'a-z' 'A-Z')
		if [ "$result" = yes ]; then
			echo "#define $define 1"
		else
			echo "/* #undef $define */"
		fi
	done <"$work/results"
	echo
	echo '#endif /* _STARGATEFS_CONFIG_H */'
} >"$work/header"
mv -f "$work/header" "$output"
[ -z "$results" ] || cp "$work/results" "$results"
