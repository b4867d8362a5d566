#!/usr/bin/env bash
# check-hardening.sh - the built programs carry every hardening flag of
# the Makefile (issue 14; docs/security.md "Transport and build"), read
# from the ELF files with readelf (binutils):
#
#   PIE          ELF type DYN and FLAGS_1 PIE        (-fPIE -pie)
#   BIND_NOW     FLAGS BIND_NOW or FLAGS_1 NOW       (-Wl,-z,now)
#   RELRO        a GNU_RELRO program header          (-Wl,-z,relro)
#   NX stack     GNU_STACK without E                 (-Wl,-z,noexecstack)
#   canaries     __stack_chk_fail imported           (-fstack-protector-strong)
#   fortify      at least three __*_chk imported     (-D_FORTIFY_SOURCE=3)
#   CET          every object the Makefile compiled has the x86 feature
#                note IBT and SHSTK                  (-fcf-protection)
#
# The CET note is read from the objects, not the programs: the linker
# keeps it only when every input has it, and Debian 12's C start files
# (crt1.o, crti.o) are built without it, so no program linked there can
# carry it; our own code is what the flag protects.
#
# Usage: scripts/check-hardening.sh PROGRAM... [-- OBJECT...|OBJECT_DIR]
# (the objects the programs were linked from, as make passes them; or a
# directory whose every *.o is read, default build/release, which may
# hold objects of files since removed).  Prints one line per check and
# exits 1 when any fails.
set -u

fail=0
objdir=build/release
objlist=()
progs=()
while [ $# -gt 0 ]; do
	case $1 in
	--)
		shift
		if [ $# -eq 1 ] && [ -d "$1" ]; then
			objdir=$1
		else
			objlist=("$@")
		fi
		break
		;;
	*) progs+=("$1"); shift ;;
	esac
done
[ ${#progs[@]} -gt 0 ] || { echo "usage: $0 PROGRAM... [-- OBJDIR]" >&2; exit 2; }

check() { # NAME PROGRAM CONDITION-RESULT
	if [ "$3" = 0 ]; then
		echo "ok   $2: $1"
	else
		echo "FAIL $2: $1"
		fail=1
	fi
}

for p in "${progs[@]}"; do
	if [ ! -f "$p" ]; then
		echo "FAIL $p: not built"
		fail=1
		continue
	fi
	hdr=$(readelf -hW "$p")
	dyn=$(readelf -dW "$p")
	phd=$(readelf -lW "$p")
	syms=$(readelf --dyn-syms -W "$p")
	grep -q 'Type: *DYN' <<<"$hdr" && grep -q 'FLAGS_1.*PIE' <<<"$dyn"
	check "PIE (type DYN, FLAGS_1 PIE)" "$p" $?
	grep -Eq 'FLAGS\) +.*BIND_NOW|FLAGS_1.*\bNOW\b' <<<"$dyn"
	check "BIND_NOW" "$p" $?
	grep -q 'GNU_RELRO' <<<"$phd"
	check "GNU_RELRO" "$p" $?
	grep -E 'GNU_STACK' <<<"$phd" | grep -Eq ' RW  '
	check "non-executable stack" "$p" $?
	grep -q ' __stack_chk_fail' <<<"$syms"
	check "stack protector (__stack_chk_fail)" "$p" $?
	n=$(grep -oE ' __[a-z0-9_]+_chk(@|$)' <<<"$syms" | sort -u | wc -l)
	[ "$n" -ge 3 ]
	check "fortify source ($n __*_chk imported)" "$p" $?
done

if [ ${#objlist[@]} -gt 0 ]; then
	objdir="the linked objects"
	objs=$(printf '%s\n' "${objlist[@]}" | sort -u)
else
	objs=$(find "$objdir" -name '*.o' | sort)
fi
if [ -z "$objs" ]; then
	echo "FAIL $objdir: no objects"
	fail=1
else
	bad=0
	total=0
	for o in $objs; do
		total=$((total + 1))
		if ! readelf -nW "$o" | grep -q 'x86 feature: IBT, SHSTK'; then
			echo "     no IBT/SHSTK note: $o"
			bad=$((bad + 1))
		fi
	done
	[ "$bad" -eq 0 ]
	check "CET (IBT, SHSTK) in all $total objects" "$objdir" $?
fi
exit $fail
