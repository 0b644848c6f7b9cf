#!/bin/sh
# After removal: systemd forgets the units. The user meshtop and /etc/meshtop (your
# secrets and keys) stay, as with most daemons' packages.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
