# SPDX-License-Identifier: GPL-2.0
#
# A private apt configuration under $BUILD/apt for packages of Debian 13
# (trixie, trixie-backports) that Debian 12 lacks: the kernel source and
# virtme-ng.  Packages are only downloaded and unpacked with dpkg -x, never
# installed, and the system's own apt sources are never touched.  The
# mirror URI is read from the system's sources at run time.
#
# Source this file, then: papt_init BUILD_DIR; papt_update;
# papt_candidate PKG; papt_download PKG=VERSION DIR.

papt_die() { echo "${papt_who:-apt}: $*" >&2; exit 1; }

papt_mirror()
{
	local f uri=""

	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# The first stanza that is not the security archive.
		uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && u != "" && $0 !~ /security/ { print u; exit }' "$f")
		[ -n "$uri" ] && break
	done
	if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
	fi
	echo "$uri"
}

papt_init()
{
	local uri

	papt_dir=$1/apt
	uri=$(papt_mirror)
	[ -n "$uri" ] || papt_die "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"

	mkdir -p "$papt_dir"/{lists/partial,cache/archives/partial,sources.list.d,preferences.d,debs}
	: > "$papt_dir/sources.list"
	[ -f "$papt_dir/status" ] || : > "$papt_dir/status"
	cat > "$papt_dir/sources.list.d/trixie.sources" <<EOS
Types: deb
URIs: $uri
Suites: trixie-backports trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
	papt_opts=(
		-o "Dir::Etc::SourceList=$papt_dir/sources.list"
		-o "Dir::Etc::SourceParts=$papt_dir/sources.list.d"
		-o "Dir::Etc::Preferences=$papt_dir/preferences"
		-o "Dir::Etc::PreferencesParts=$papt_dir/preferences.d"
		-o "Dir::State::Lists=$papt_dir/lists"
		-o "Dir::State::status=$papt_dir/status"
		-o "Dir::Cache=$papt_dir/cache"
		-o "APT::Sandbox::User=root"
	)
}

# Refresh the private lists at most once an hour.
papt_update()
{
	local stamp=$papt_dir/lists/.updated

	if [ -n "$(find "$stamp" -mmin -60 2>/dev/null)" ]; then
		return 0
	fi
	apt-get "${papt_opts[@]}" -q update > "$papt_dir/update.log" 2>&1 ||
		papt_die "apt-get update of the private trixie lists failed (no network to the archive?); see $papt_dir/update.log"
	touch "$stamp"
}

papt_candidate()
{
	apt-cache "${papt_opts[@]}" policy "$1" | awk '/Candidate:/ { print $2 }'
}

# papt_download PKG=VERSION: fetch the .deb into $papt_dir/debs, print its path.
papt_download()
{
	local pkg=${1%%=*} deb

	(cd "$papt_dir/debs" && apt-get "${papt_opts[@]}" -q download "$1") \
		> "$papt_dir/download.log" 2>&1 ||
		papt_die "apt-get download $1 failed; see $papt_dir/download.log"
	deb=$(ls -t "$papt_dir"/debs/"${pkg}"_*.deb 2>/dev/null | head -n1)
	[ -f "$deb" ] || papt_die "apt-get download $1 left no .deb"
	echo "$deb"
}
