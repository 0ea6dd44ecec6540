#!/usr/bin/env bash
# macOS: sign, package and notarize the .app PyInstaller built (installers/build.py runs this).
#
#     make-dmg.sh dist/Operations.app dist/Operations-0.1.0.dmg
#
# Without CODESIGN_IDENTITY the .dmg is unsigned (for testing only: Gatekeeper blocks it on other
# Macs). For a release, set (installers/README.md, "Signing and notarization"):
#   CODESIGN_IDENTITY   "Developer ID Application: Your Company (TEAMID)"
#   NOTARY_PROFILE      a notarytool keychain profile, made once with
#                       xcrun notarytool store-credentials NAME --apple-id … --team-id … --password …
# PyInstaller signs every binary inside the bundle when CODESIGN_IDENTITY is set at build time
# (installers/desktop/ops-desktop.spec); this script signs the .app and the .dmg, notarizes the
# .dmg and staples the ticket so it opens offline.
set -euo pipefail
app=${1:?the .app to package}
dmg=${2:?the .dmg to write}
here=$(cd "$(dirname "$0")" && pwd)
entitlements="$here/entitlements.plist"

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
    codesign --force --options runtime --timestamp --entitlements "$entitlements" \
        --sign "$CODESIGN_IDENTITY" "$app"
    codesign --verify --deep --strict --verbose=2 "$app"
fi

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname "Operations" -srcfolder "$staging" -fs HFS+ -format UDZO -ov "$dmg"

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
    codesign --force --timestamp --sign "$CODESIGN_IDENTITY" "$dmg"
    if [ -n "${NOTARY_PROFILE:-}" ]; then
        xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_PROFILE" --wait
        xcrun stapler staple "$dmg"
        spctl --assess --type open --context context:primary-signature --verbose "$dmg"
    else
        echo "NOTARY_PROFILE is not set: the .dmg is signed but not notarized" >&2
    fi
else
    echo "CODESIGN_IDENTITY is not set: the .app and .dmg are unsigned (testing only)" >&2
fi
echo "built $dmg"
