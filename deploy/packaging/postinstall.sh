#!/bin/sh
# After install or upgrade: systemd learns the units; nothing is enabled or started
# (an agent needs its secret and PoP first: see /etc/meshtop/meshtop.yaml).
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	# On upgrade, restart what runs so the new binary is used.
	systemctl try-restart meshtop-agent.service meshtop-serve.service >/dev/null 2>&1 || true
fi
