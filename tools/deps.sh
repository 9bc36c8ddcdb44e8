#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install the Debian 12 packages mpvmm needs to build and test, if any is missing.
# Sourced by tools/setup-and-demo, tools/run-tests and .ci/run.
MPVMM_DEB_PACKAGES="meson ninja-build gcc pkg-config libglib2.0-dev libjson-c-dev \
libseccomp-dev libcap-ng-dev qemu-system-x86 valgrind \
libselinux1-dev libsepol-dev checkpolicy semodule-utils policycoreutils selinux-policy-dev \
selinux-policy-default setools bzip2"

mpvmm_install_deps()
{
	missing=""
	for p in $MPVMM_DEB_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "mpvmm: installing missing Debian packages:$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
}
