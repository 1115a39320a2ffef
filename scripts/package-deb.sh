#!/usr/bin/env bash
# Builds the Debian package with cargo-deb (crates.io), checks what it holds, verifies the
# systemd unit, and (as root) installs and purges it once. Prints the package's path last.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked --quiet

cargo build --release --locked -q -p roster
mkdir -p target/package
target/release/roster man | gzip -9n > target/package/roster.1.gz
target/release/roster completions bash > target/package/roster.bash
target/release/roster completions zsh > target/package/_roster
target/release/roster completions fish > target/package/roster.fish
deb=$(cargo deb -p roster --no-build --strip --locked 2>/dev/null | tail -n 1)
[ -f "$deb" ] || { echo "cargo deb made no package" >&2; exit 1; }

listing=$(dpkg-deb --contents "$deb")
for path in ./usr/bin/roster ./etc/roster/roster.toml ./usr/lib/systemd/system/roster.service \
            ./usr/share/man/man1/roster.1.gz ./usr/share/bash-completion/completions/roster \
            ./usr/share/doc/roster/copyright; do
  grep -q " $path\$" <<<"$listing" || { echo "the package lacks $path" >&2; echo "$listing" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb --control "$deb" "$work/control"
grep -q "adduser --system" "$work/control/postinst" || { echo "postinst creates no user" >&2; exit 1; }
grep -qx "/etc/roster/roster.toml" "$work/control/conffiles" || { echo "the configuration is no conffile" >&2; exit 1; }
if command -v systemd-analyze >/dev/null; then
  dpkg-deb --extract "$deb" "$work/root"
  # The unit names /usr/bin/roster: check it against the packaged binary.
  sed "s|/usr/bin/roster|$work/root/usr/bin/roster|" packaging/roster.service > "$work/roster.service"
  systemd-analyze verify --man=no "$work/roster.service"
fi
# The example configuration, every key uncommented, is one Roster accepts.
sed -E 's/^# ([a-z_]+ = )/\1/' packaging/roster.toml | sed -E 's/"…"/"x"/' > "$work/all-keys.toml"
grep -q '^listen = ' "$work/all-keys.toml"
# (It is read before the database is looked for: "no database" means the file passed.)
if target/release/roster backup --config "$work/all-keys.toml" --database "sqlite://$work/none.db" "$work/b.db" 2>"$work/err"; then
  echo "a backup of no database succeeded" >&2; exit 1
fi
grep -q "no database" "$work/err" || { echo "the example configuration is refused:" >&2; cat "$work/err" >&2; exit 1; }
if [ "$(id -u)" = 0 ] && [ "${ROSTER_PACKAGE_INSTALL:-1}" = 1 ]; then
  dpkg -i "$deb" >/dev/null
  getent passwd roster >/dev/null || { echo "installing created no roster user" >&2; exit 1; }
  [ -d /var/lib/roster ] && /usr/bin/roster --version >/dev/null
  dpkg --purge roster >/dev/null
fi
echo "$deb"
