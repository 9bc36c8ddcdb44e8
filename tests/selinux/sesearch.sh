#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Rule queries on the linked binary policy (Debian's reference policy + the mpvmm
# module) with setools' sesearch and seinfo: empty results where access must be denied,
# the expected rules where it must be allowed, and the MCS constraint the mpvmm domains
# are subject to.  Prints TAP.  This reads the policy; it does not evaluate access for
# two contexts (test-selinux-av does that).
# Usage: sesearch.sh POLICY
set -u
policy=$1
n=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

# The allow rules that apply to each domain (sesearch matches attributes holding it), and
# the names that cover each object type (the type and its attributes), read once: each
# sesearch run loads the whole policy.
for d in mpvmm_t mpvmm_misc_t mpvmm_storage_t mpvmm_net_t; do
	sesearch -A -s $d "$policy" >"$tmp/$d" || { echo "Bail out! sesearch failed"; exit 1; }
done
sesearch -T -s mpvmm_domain "$policy" >"$tmp/type_trans"
names() { seinfo -t "$1" -x "$policy" | sed -n 's/^ *type //p' | tr -d ',;' | tr ' ' '\n'; }
names mpvmm_image_t >"$tmp/image_names"
names tun_tap_device_t >"$tmp/tun_names"
names mpvmm_sandbox_root_t >"$tmp/sandbox_root_names"
names mpvmm_kernel_t >"$tmp/kernel_names"
for c in misc storage net; do names mpvmm_${c}_t; done | sort -u >"$tmp/class_names"

# rules DOMAIN CLASSES [PERMS] [TARGET-NAMES-FILE]: the rules of DOMAIN on any of CLASSES
# (a|b), holding any of PERMS (a|b), on a target named in the file.
rules()
{
	awk -v classes="^($2)$" -v perms="${3:-[a-z_0-9]+}" -v tfile="${4:-}" '
		BEGIN { if (tfile != "") while ((getline t < tfile) > 0) tn[t] = 1 }
		{
			split($3, tc, ":")
			if (tc[2] !~ classes) next
			if (tfile != "" && !(tc[1] in tn)) next
			line = $0
			sub(/^[^:]*:[^ ]* /, "", line)
			gsub(/[{};]/, " ", line)
			n = split(line, p, " ")
			for (i = 1; i <= n; i++) if (p[i] ~ "^(" perms ")$") { print $0; next }
		}' "$tmp/$1"
}

# none DESC DOMAINS RULES-ARGS...: no rule of any of DOMAINS may match.
none()
{
	desc=$1
	domains=$2
	shift 2
	out=$(for d in $domains; do rules "$d" "$@"; done | sort -u)
	if [ -z "$out" ]; then
		ok "$desc"
	else
		not_ok "$desc: unexpected rules:"
		echo "$out" | sed 's/^/#   /'
	fi
}

# some DESC PATTERN DOMAIN: some rule of DOMAIN must match PATTERN (a file instead of a
# domain: that file).
some()
{
	f=$tmp/$3
	if grep -Eq -- "$2" "$f"; then
		ok "$1"
	else
		not_ok "$1: no rule matches /$2/"
	fi
}

classes="mpvmm_misc_t mpvmm_storage_t mpvmm_net_t"
inet="tcp_socket|udp_socket|rawip_socket|icmp_socket|sctp_socket|packet_socket"
caps="capability|capability2|cap_userns|cap2_userns"
# cap_userns permissions other than the namespace layer's sys_admin and setpcap
other_userns="chown|dac_override|dac_read_search|fowner|fsetid|kill|setgid|setuid"
other_userns="$other_userns|linux_immutable|net_bind_service|net_broadcast|net_admin|net_raw"
other_userns="$other_userns|ipc_lock|ipc_owner|sys_module|sys_rawio|sys_chroot|sys_ptrace"
other_userns="$other_userns|sys_pacct|sys_boot|sys_nice|sys_resource|sys_time|sys_tty_config"
other_userns="$other_userns|mknod|lease|audit_write|audit_control|setfcap"

# Denials.  Debian's base lets every domain's sockets receive packets from labeled peers
# (recvfrom on another domain); a class process has no inet socket of its own.
none "class domains: no inet permission but recvfrom" "$classes" "$inet" \
	"create|connect|bind|listen|accept|read|write|name_connect|name_bind|node_bind|sendto"
none "class domains: create no socket file" "$classes" sock_file create
none "mpvmm_t: connects to no class process's socket" mpvmm_t unix_stream_socket connectto \
	"$tmp/class_names"
none "class domains: no capability in the initial user namespace" "$classes" \
	"capability|capability2"
none "class domains: no cap2_userns" "$classes" cap2_userns
none "class domains: in their own user namespace nothing but sys_admin and setpcap" \
	"$classes" cap_userns "$other_userns"
none "class domains: no filesystem relabel or quota change" "$classes" filesystem \
	"relabelfrom|relabelto|quotamod"
none "class domains: write nothing in their sandbox's root" "$classes" dir \
	"write|add_name|remove_name|create|setattr" "$tmp/sandbox_root_names"
none "mpvmm_t: no capability either" mpvmm_t "$caps"
none "class domains: no execute_no_trans" "$classes" file execute_no_trans
none "class domains: no process transition" "$classes" process "transition|dyntransition"
none "class domains: no execmem, execstack, execheap" "$classes" process \
	"execmem|execstack|execheap"
none "class domains: no setexec, setcurrent, ptrace" "$classes" process \
	"setexec|setcurrent|ptrace"
none "mpvmm_t: never executes or relabels an image" mpvmm_t file \
	"execute|execute_no_trans|entrypoint|relabelfrom|relabelto" "$tmp/image_names"
none "mpvmm_t: kernels are read-only" mpvmm_t file "write|append|setattr|relabelfrom|relabelto" \
	"$tmp/kernel_names"
none "net: no access to images" mpvmm_net_t "[a-z_]+" "[a-z_0-9]+" "$tmp/image_names"
none "misc: no access to images" mpvmm_misc_t "[a-z_]+" "[a-z_0-9]+" "$tmp/image_names"
none "storage: no access to tun devices" mpvmm_storage_t "[a-z_]+" "[a-z_0-9]+" "$tmp/tun_names"
none "storage: no tun_socket" mpvmm_storage_t tun_socket
if grep -E "^type_transition ($(echo "$classes" | tr ' ' '|')) .*:process" "$tmp/type_trans"
then
	not_ok "class domains: a type_transition to a process"
else
	ok "class domains: no type_transition to a process"
fi

# Execute and entrypoint only on the loader, the libraries and the own executable.
for c in misc storage net; do
	got=$(rules mpvmm_${c}_t file execute | awk '{ split($3, t, ":"); print t[1] }' |
		sort -u | tr '\n' ' ')
	want="ld_so_t lib_t mpvmm_${c}_exec_t textrel_shlib_t "
	if [ "$got" = "$want" ]; then
		ok "mpvmm_${c}_t: execute only on $want"
	else
		not_ok "mpvmm_${c}_t: execute on '$got', expected '$want'"
	fi
	got=$(rules mpvmm_${c}_t file entrypoint | awk '{ split($3, t, ":"); print t[1] }' |
		sort -u | tr '\n' ' ')
	if [ "$got" = "mpvmm_${c}_exec_t " ]; then
		ok "mpvmm_${c}_t: entrypoint only mpvmm_${c}_exec_t"
	else
		not_ok "mpvmm_${c}_t: entrypoint on '$got'"
	fi
done

# What each domain needs.
some "storage reads and writes images" "mpvmm_image_t:file .*read.*write" mpvmm_storage_t
some "mpvmm_t reads and writes images (a -blockdev it opens itself)" \
	"mpvmm_image_t:file .*lock.*open.*read.*write" mpvmm_t
some "mpvmm_t reads kernels" "mpvmm_kernel_t:file .*read" mpvmm_t
some "classes use the VMM's sockets" "mpvmm_t:unix_stream_socket .*read.*write" mpvmm_misc_t
some "classes map guest RAM" "mpvmm_tmpfs_t:file .*map.*read.*write" mpvmm_storage_t
some "classes use fds from the VMM" "mpvmm_t:fd use" mpvmm_net_t
some "misc reads /dev/urandom" "urandom_device_t:chr_file .*read" mpvmm_misc_t
some "net reads and writes tun devices" "tun_tap_device_t:chr_file .*read.*write" mpvmm_net_t
some "mpvmm_t uses /dev/kvm" "kvm_device_t:chr_file .*ioctl.*read.*write" mpvmm_t
some "mpvmm_t's memfds are mpvmm_tmpfs_t" "type_transition mpvmm_t tmpfs_t:file mpvmm_tmpfs_t" \
	type_trans
# The sandbox's namespace layer, in the process's own user namespace and mount namespace.
for c in misc storage net; do
	d=mpvmm_${c}_t
	some "$d: cap_userns sys_admin and setpcap on itself" \
		"^allow $d $d:cap_userns \{ setpcap sys_admin \};" $d
	some "$d: capset (process setcap)" "$d:process .*setcap" $d
	some "$d: mounts a tmpfs and remounts it" "tmpfs_t:filesystem \{ mount remount \}" $d
	some "$d: detaches the old root (filesystem unmount)" "fs_t:filesystem unmount" $d
	some "$d: mounton / (made private)" "root_t:dir mounton" $d
	some "$d: mounton /tmp" "tmp_t:dir mounton" $d
	some "$d: its sandbox root is mpvmm_sandbox_root_t" \
		"type_transition $d tmpfs_t:dir mpvmm_sandbox_root_t" type_trans
	some "$d: searches its sandbox root" "mpvmm_sandbox_root_t:dir \{ getattr search \}" $d
done
some "mpvmm_t may start storage (VMM-launched)" "mpvmm_storage_t:process .*transition" mpvmm_t
out=$(sesearch -A -s unconfined_t -t mpvmm_t -c process -p transition "$policy")
if echo "$out" | grep -q transition; then
	ok "an unconfined launcher may start mpvmm_t"
else
	not_ok "an unconfined launcher cannot start mpvmm_t"
fi

# MCS: every mpvmm domain is constrained by the base policy's h1 dom h2 constraints.
members=$(seinfo -a mcs_constrained_type -x "$policy" | grep -o 'mpvmm_[a-z_]*' | sort | tr '\n' ' ')
if [ "$members" = "mpvmm_misc_t mpvmm_net_t mpvmm_storage_t mpvmm_t " ]; then
	ok "all four mpvmm domains are mcs_constrained_type"
else
	not_ok "mcs_constrained_type holds '$members'"
fi
if seinfo "$policy" --constrain | grep -q \
	'mlsconstrain file { .*read.*write.* } (h1 dom h2 or ( t1 != mcs_constrained_type ))'; then
	ok "the policy constrains file read/write to h1 dom h2 for those domains"
else
	not_ok "no MCS file constraint on mcs_constrained_type"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
