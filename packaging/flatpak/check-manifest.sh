#!/usr/bin/env bash
# Lints the Flatpak manifest against the project's decisions and Flathub's rules
# on permissions, and lets flatpak-builder parse it.
#   check-manifest.sh [MANIFEST]
# SPDX-License-Identifier: AGPL-3.0-or-later
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

manifest=${1:-$KOINE_REPO/packaging/flatpak/$KOINE_APP_ID.yml}
[ -f "$manifest" ] || { err "FAIL: $manifest: no such file"; exit 1; }
manifest=$(realpath "$manifest")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# flatpak-builder parses the YAML the way a real build will and prints it as JSON.
# It runs in the temporary directory: it leaves a .flatpak-builder/ in its cwd.
if ! (cd "$tmp" && flatpak-builder --show-manifest "$manifest") >"$tmp/manifest.json" 2>"$tmp/log"; then
    cat "$tmp/log" >&2
    err "FAIL: flatpak-builder cannot read $manifest"
    exit 1
fi

python3 - "$tmp/manifest.json" "$KOINE_APP_ID" <<'PY' || { err "FAIL: $manifest breaks the packaging rules"; exit 1; }
import json
import sys

path, app_id = sys.argv[1:3]
m = json.load(open(path))
problems = []

def expect(cond, what):
    if not cond:
        problems.append(what)

expect(m.get("id", m.get("app-id")) == app_id, f"id must be {app_id}")
expect(m.get("runtime") == "org.freedesktop.Platform", "runtime must be org.freedesktop.Platform")
expect(m.get("runtime-version") == "24.08", "runtime-version must be 24.08")
expect(m.get("sdk") == "org.freedesktop.Sdk", "sdk must be org.freedesktop.Sdk")
expect("org.freedesktop.Sdk.Extension.rust-stable" in m.get("sdk-extensions", []),
       "sdk-extensions must contain org.freedesktop.Sdk.Extension.rust-stable")
expect(m.get("command") == "koine", "command must be koine")

args = m.get("finish-args", [])
for needed in ["--socket=wayland", "--socket=fallback-x11", "--share=ipc", "--device=dri",
               "--share=network"]:
    expect(needed in args, f"finish-args needs {needed}")
allowed_talk = {"--talk-name=org.freedesktop.Notifications"}
for a in args:
    expect(a != "--socket=session-bus", "--socket=session-bus is not allowed (Flathub)")
    expect(a != "--socket=system-bus", "--socket=system-bus is not allowed (Flathub)")
    expect(a != "--socket=x11", "use --socket=fallback-x11, not --socket=x11")
    expect(not a.startswith("--talk-name=org.freedesktop.secrets"),
           "talking to org.freedesktop.secrets is not allowed: use the Secret portal")
    expect(not a.startswith("--own-name="), f"{a} is not needed")
    expect(not a.startswith("--filesystem=host") and a != "--filesystem=home",
           f"{a}: no broad file system access")
    if a.startswith("--talk-name="):
        expect(a in allowed_talk, f"{a} is not in the allowed list")

modules = [mod for mod in m.get("modules", []) if isinstance(mod, dict)]
koine = [mod for mod in modules if mod.get("name") == "koine"]
expect(len(koine) == 1, "exactly one module named koine")
if koine:
    mod = koine[0]
    cmds = "\n".join(mod.get("build-commands", []))
    env = mod.get("build-options", {}).get("env", {})
    expect("cargo --offline build --release -p koine" in cmds,
           "build-commands must run cargo --offline build --release -p koine")
    expect(env.get("CARGO_HOME", "").endswith("/cargo"),
           "CARGO_HOME must point at the vendored cargo/ directory")
    for dest in ["/app/bin/koine",
                 f"/app/share/applications/{app_id}.desktop",
                 f"/app/share/metainfo/{app_id}.metainfo.xml",
                 f"/app/share/icons/hicolor/scalable/apps/{app_id}.svg",
                 f"/app/share/icons/hicolor/${{size}}x${{size}}/apps/{app_id}.png"]:
        expect(dest in cmds, f"build-commands must install {dest}")
    # flatpak-builder has already inlined cargo-sources.json here.
    srcs = [s for s in mod.get("sources", []) if isinstance(s, dict)]
    vendored = [s for s in srcs if s.get("type") == "archive"
                and s.get("dest", "").startswith("cargo/vendor/")]
    config = [s for s in srcs if s.get("type") == "inline" and s.get("dest") == "cargo"
              and s.get("dest-filename") == "config"]
    expect(len(vendored) > 0 and len(config) == 1,
           "sources must include cargo-sources.json (vendored crates and cargo/config)")
    expect(any(s.get("type") == "dir" and s.get("path") == "../.." for s in srcs),
           "sources must include the repository (type: dir, path: ../..)")

for p in problems:
    print(f"  {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
say "ok: flatpak manifest $manifest"
