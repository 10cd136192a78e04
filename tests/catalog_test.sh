#!/bin/sh
# The catalog file parses with journalctl and has an entry for each of the
# nine MESSAGE_IDs that src/core/event.c sends.
set -u
catalog=$1
root=$(mktemp -d /tmp/leakwatch-catalog.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/lib/systemd/catalog"
cp "$catalog" "$root/usr/lib/systemd/catalog/leakwatch.catalog"
if ! journalctl --root="$root" --update-catalog; then
	echo "catalog: 0 passed, 1 failed (journalctl cannot parse $catalog)"
	exit 1
fi
pass=0 fail=0
for id in $(grep -o '"[0-9a-f]\{32\}"' src/core/event.c | tr -d '"'); do
	if journalctl --root="$root" --list-catalog "$id" 2>/dev/null | grep -q "^$id leakwatch: "; then
		pass=$((pass + 1))
	else
		echo "catalog: no entry for $id"
		fail=$((fail + 1))
	fi
done
[ $pass -eq 9 ] || { echo "catalog: expected 9 message ids in src/core/event.c, found $pass"; fail=$((fail + 1)); }
echo "catalog: $pass passed, $fail failed"
[ $fail -eq 0 ]
