#!/usr/bin/env bash
# Builds Satchel's release artifacts into dist/, with a SHA256SUMS file; `make dist` runs it
# after setting up what it needs. What each artifact is and who downloads it: the README's
# "Download and install".
#
# Reproducible: Go builds use -trimpath and an empty build id, the version (`git describe`) and
# the commit are stamped into shared/buildinfo, and every timestamp written (image layers, the .deb) is the
# commit's time (SOURCE_DATE_EPOCH). The Windows installer (NSIS) still records build times.
#
# Needs: WAILS (the Wails CLI), the frontend's npm packages, makensis (Debian's nsis),
# dpkg-deb, ImageMagick's convert, and the launcher's GTK/WebKitGTK build packages.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${WAILS:?set WAILS to the Wails CLI}"

out=dist
version=$(git describe --tags --always --dirty)
commit=$(git rev-parse HEAD)$(git diff --quiet HEAD -- || echo -dirty)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
ldflags="-s -w -buildid= -X satchel.dev/shared/buildinfo.version=$version -X satchel.dev/shared/buildinfo.commit=$commit"
gobuild() { CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" "$@"; }

rm -rf "$out"
mkdir -p "$out"
echo "building Satchel $version (commit $commit) into $out/"

# The server, and its image (a `docker load` / `podman load` tarball) for each architecture.
for arch in amd64 arm64; do
	GOOS=linux GOARCH=$arch gobuild -o "$out/satchel-server-linux-$arch" ./backend/cmd/satchel-server
	(cd tools/satchel-image && GOWORK=off go run . -binary "../../$out/satchel-server-linux-$arch" -arch "$arch" \
		-version "$version" -revision "$commit" -epoch "$SOURCE_DATE_EPOCH" -o "../../$out/satchel-server-image-linux-$arch.tar")
done

# The CLI for every platform the launcher runs on.
for target in linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64; do
	os=${target%/*} arch=${target#*/} ext=
	[ "$os" = windows ] && ext=.exe
	GOOS=$os GOARCH=$arch gobuild -o "$out/satchel-$os-$arch$ext" ./desktop/cmd/satchel
done

# The window. Linux (native, cgo: GTK and WebKitGTK 4.1) builds the frontend; Windows (pure Go,
# cross-built) reuses it and adds the NSIS installer. macOS needs a Mac (cgo, Apple's SDK).
wails() { (cd desktop && "$WAILS" build -m -nosyncgomod -trimpath -nocolour -ldflags "$ldflags" "$@"); }
wails
wails -s -platform windows/amd64 -nsis
cp desktop/build/bin/satchel-launcher.exe "$out/satchel-launcher-windows-amd64.exe"
cp desktop/build/bin/Satchel-amd64-installer.exe "$out/satchel-launcher-windows-amd64-installer.exe"

# The Linux package: the window and the CLI, a desktop entry and the icon.
debversion=${version#v}
case $debversion in [0-9]*) ;; *) debversion=0.0.0+g$debversion ;; esac
debversion=${debversion//-/+}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
pkg=$root/satchel-launcher
install -D -m 0755 desktop/build/bin/satchel-launcher "$pkg/usr/bin/satchel-launcher"
install -D -m 0755 "$out/satchel-linux-amd64" "$pkg/usr/bin/satchel"
install -D -m 0644 desktop/packaging/linux/satchel-launcher.desktop "$pkg/usr/share/applications/satchel-launcher.desktop"
mkdir -p "$pkg/usr/share/icons/hicolor/256x256/apps"
convert desktop/build/appicon.png -resize 256x256 -strip -define png:exclude-chunks=date,time \
	"$pkg/usr/share/icons/hicolor/256x256/apps/satchel-launcher.png"
mkdir -p "$pkg/DEBIAN"
sed -e "s/@VERSION@/$debversion/" -e "s/@SIZE@/$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)/" \
	desktop/packaging/linux/control > "$pkg/DEBIAN/control"
find "$pkg" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out/satchel-launcher_${debversion}_amd64.deb" >/dev/null

(cd "$out" && sha256sum -- * > SHA256SUMS)
echo "done: $out/"
ls -l "$out"
