#!/bin/sh
# Remove Operations for this user. Your databases are KEPT unless you add --delete-data:
#   sh uninstall.sh                 # the program, its menu entry and icons
#   sh uninstall.sh --delete-data   # also ~/.local/share/OpsManagement (unsynced changes are lost)
set -eu
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
prefix=${OPS_PREFIX:-$HOME/.local}
rm -rf "$prefix/lib/ops-desktop"
rm -f "$prefix/bin/ops-desktop" "$data_home/applications/ops-desktop.desktop" \
    "$data_home/icons/hicolor/scalable/apps/ops-desktop.svg" \
    "$data_home/icons/hicolor/256x256/apps/ops-desktop.png"
if [ "${1:-}" = "--delete-data" ]; then
    rm -rf "${OPS_DESKTOP_DATA_DIR:-$data_home/OpsManagement}"
    echo "Removed Operations and its local databases."
else
    echo "Removed Operations. Your local databases are kept in ${OPS_DESKTOP_DATA_DIR:-$data_home/OpsManagement}."
fi
