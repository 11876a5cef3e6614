#!/usr/bin/env bash
# deploy/package/build-deb.sh BUILD VERSION ARCH OUT.deb - what `make deb`
# runs: `make install PREFIX=/usr` into a staging tree (the binary's
# shared link), the binary stripped, man pages and changelog compressed,
# Depends from dpkg-shlibdeps (what the binary links or dlopen()s),
# md5sums, then dpkg-deb.
set -euo pipefail

build=$(realpath -m "$1") version=$2 arch=$3 out=$4
stage=$build/deb
root=$stage/root
doc=$root/usr/share/doc/awf-bpf

rm -rf "$stage"
mkdir -p "$root/DEBIAN" "$doc"
# The binary linked against the distribution's shared libraries
# (docs/packaging.md): their security updates reach it as they reach
# everything else.
make --no-print-directory install BUILD="$build" INSTALL_BIN="$build/shared/awf-bpf" \
	DESTDIR="$root" PREFIX=/usr \
	SYSTEMD_UNIT_DIR=/lib/systemd/system >"$stage/install.log"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/bin/awf-bpf"
gzip -9n "$root"/usr/share/man/man*/*

install -m 0644 deploy/package/copyright "$doc/copyright"
# A native package's changelog: this version, dated by the last commit
# (the same tree gives the same .deb).
when=$(git log -1 --format=%ct 2>/dev/null || date +%s)
cat >"$stage/changelog" <<CHANGELOG
awf-bpf ($version) unstable; urgency=medium

  * Release $version (git $(git rev-parse --short HEAD 2>/dev/null || echo unknown)).

 -- awf-bpf developers <awf-bpf@lists.example.org>  $(LC_ALL=C date -R -u -d "@$when")
CHANGELOG
gzip -9n -c "$stage/changelog" >"$doc/changelog.gz"

# dpkg-shlibdeps wants a debian/control beside it.
mkdir -p "$stage/src/debian"
printf 'Source: awf-bpf\n\nPackage: awf-bpf\nArchitecture: any\n' >"$stage/src/debian/control"
# The libraries the binary dlopen()s on first use (DLOPEN_LIBS, from the
# Makefile's PKGS_LOADED) are in no DT_NEEDED: a stub that links them lets
# dpkg-shlibdeps name their packages too.
printf 'int main(void) { return 0; }\n' >"$stage/dlopen-stub.c"
# shellcheck disable=SC2086 # DLOPEN_LIBS is a list of -l flags
cc -Wl,--no-as-needed "$stage/dlopen-stub.c" ${DLOPEN_LIBS:?} -o "$stage/dlopen-stub"
depends=$(cd "$stage/src" && dpkg-shlibdeps -O "-e$root/usr/bin/awf-bpf" "-e$stage/dlopen-stub" \
	2>"$stage/shlibdeps.log" | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { cat "$stage/shlibdeps.log" >&2; echo "build-deb.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

find "$root" -type d -exec chmod 0755 {} +
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	-e "s/@DEPENDS@/$depends/" deploy/package/control.in >"$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
	xargs -0 md5sum) >"$root/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "make deb: $out (Depends: $depends)"
