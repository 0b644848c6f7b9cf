#!/bin/sh
# Before removal (not before an upgrade): stop and disable the services.
# deb passes "remove"/"purge" (or "upgrade"); rpm passes the count left (0 = removal).
case "$1" in
remove | purge | 0)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now meshtop-agent.service meshtop-serve.service >/dev/null 2>&1 || true
	fi
	;;
esac
