#!/usr/bin/env bash
# Builds the .deb with CPack into a scratch directory and checks what it holds: the
# binary (and that it runs), the systemd unit, the default config (a conffile, and valid),
# the rulesets (valid), the maintainer scripts; and the unit with systemd-analyze.
#   package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1"
src="$2"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
fail() { echo "package_test: $*" >&2; exit 1; }

cpack -G DEB -B "$scratch/out" --config "$build/CPackConfig.cmake" >"$scratch/cpack.log" 2>&1 ||
  { cat "$scratch/cpack.log" >&2; fail "cpack failed"; }
deb="$(ls "$scratch"/out/vigil_*.deb)"
[ -f "$deb" ] || fail "no .deb in $scratch/out"

listing="$(dpkg-deb -c "$deb")"
for path in ./usr/bin/vigil ./lib/systemd/system/vigil.service ./etc/vigil/vigil.yaml \
            ./usr/share/vigil/rulesets/soc/ssh.yaml ./usr/share/vigil/rulesets/iot/telemetry.yaml \
            ./usr/share/doc/vigil/edge.md; do
  grep -q " $path\$" <<<"$listing" || fail "$path is not in the package:"$'\n'"$listing"
done
grep -E ' \./usr/bin/vigil$' <<<"$listing" | grep -q '^-rwxr-xr-x root/root' || fail "/usr/bin/vigil is not root-owned 0755"

dpkg-deb -e "$deb" "$scratch/control"
for f in control postinst prerm postrm conffiles; do
  [ -f "$scratch/control/$f" ] || fail "DEBIAN/$f is missing"
done
grep -qx '/etc/vigil/vigil.yaml' "$scratch/control/conffiles" || fail "vigil.yaml is not a conffile"
grep -q 'adduser --system' "$scratch/control/postinst" || fail "postinst does not create the vigil user"
grep -q '^Depends:.*adduser' "$scratch/control/control" || fail "no Depends on adduser"
grep -q '^Depends:.*librocksdb' "$scratch/control/control" || fail "shared-library dependencies missing"

dpkg -x "$deb" "$scratch/root"
"$scratch/root/usr/bin/vigil" --version | grep -q '^vigil ' || fail "the packaged binary does not run"
"$scratch/root/usr/bin/vigil" validate "$scratch/root/usr/share/vigil/rulesets" >/dev/null ||
  fail "the packaged rulesets do not validate"
unit="$scratch/root/lib/systemd/system/vigil.service"
for want in Type=notify User=vigil ProtectSystem=strict StateDirectory=vigil NoNewPrivileges=yes \
            PrivateTmp=yes ProtectHome=yes 'CapabilityBoundingSet=$'; do
  grep -q "^$want" "$unit" || fail "the unit lacks $want"
done
if command -v systemd-analyze >/dev/null; then
  # The unit's ExecStart names /usr/bin/vigil; point it at the extracted one to verify it.
  sed "s|/usr/bin/vigil|$scratch/root/usr/bin/vigil|" "$unit" >"$scratch/vigil.service"
  out="$(systemd-analyze verify "$scratch/vigil.service" 2>&1 || true)"
  if grep -v -e 'Failed to ' -e 'mosquitto.service' -e 'network-online' -e '^$' <<<"$out" | grep -qi 'vigil.service'; then
    fail "systemd-analyze verify: $out"
  fi
fi
echo "package_test: ok: $(basename "$deb"), $(stat -c %s "$deb") bytes; /usr/bin/vigil $(stat -c %s "$scratch/root/usr/bin/vigil") bytes"
