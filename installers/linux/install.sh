#!/bin/sh
# Install Operations for this user (no root needed):
#   the program   -> ~/.local/lib/ops-desktop/
#   the command   -> ~/.local/bin/ops-desktop
#   menu entry    -> ~/.local/share/applications/ops-desktop.desktop
#   icons         -> ~/.local/share/icons/hicolor/{scalable,256x256}/apps/
# Run it again to upgrade: the program is replaced, your data is not touched (it lives in
# ~/.local/share/OpsManagement, or OPS_DESKTOP_DATA_DIR).
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
prefix=${OPS_PREFIX:-$HOME/.local}
lib="$prefix/lib/ops-desktop"
bin="$prefix/bin"

mkdir -p "$prefix/lib" "$bin" "$data_home/applications" \
    "$data_home/icons/hicolor/scalable/apps" "$data_home/icons/hicolor/256x256/apps"
# Copy next to the old version, then swap: an interrupted upgrade leaves the old one working.
rm -rf "$lib.new"
cp -R "$here/app" "$lib.new"
rm -rf "$lib.old"
if [ -d "$lib" ]; then mv "$lib" "$lib.old"; fi
mv "$lib.new" "$lib"
rm -rf "$lib.old"
ln -sf "$lib/ops-desktop" "$bin/ops-desktop"

cp "$here/icons/ops-desktop.svg" "$data_home/icons/hicolor/scalable/apps/ops-desktop.svg"
cp "$here/icons/ops-desktop.png" "$data_home/icons/hicolor/256x256/apps/ops-desktop.png"
sed "s|^Exec=ops-desktop|Exec=$lib/ops-desktop|; s|^TryExec=ops-desktop|TryExec=$lib/ops-desktop|" \
    "$here/ops-desktop.desktop" > "$data_home/applications/ops-desktop.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data_home/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$data_home/icons/hicolor" || true

echo "Installed Operations in $lib"
echo "Start it from the applications menu, or run: $bin/ops-desktop"
case ":$PATH:" in *":$bin:"*) ;; *) echo "(add $bin to your PATH to run ops-desktop by name)";; esac
echo "Check this computer with: $bin/ops-desktop --self-check"
