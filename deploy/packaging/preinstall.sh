#!/bin/sh
# Before the files are unpacked: the group must exist for /etc/meshtop (root:meshtop).
set -e
if ! getent group meshtop >/dev/null; then
	groupadd --system meshtop
fi
if ! getent passwd meshtop >/dev/null; then
	useradd --system --gid meshtop --home-dir /var/lib/meshtop --no-create-home \
		--shell /usr/sbin/nologin --comment "meshtop agent and serve" meshtop
fi
