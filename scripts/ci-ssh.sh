#!/usr/bin/env bash
# Lets a CI job reach the stacks' ssh:// hosts the way a person's ssh does:
# the deploy key from the FLEET_SSH_KEY secret, and the hosts' keys only from
# the FLEET_KNOWN_HOSTS secret (checked out of band; never `ssh-keyscan` at
# deploy time, which would trust whoever answers). FLEET_SSH_CONFIG, when set,
# goes first in ~/.ssh/config (aliases, users, ProxyJump).
#
# Without FLEET_SSH_KEY it does nothing: the stacks' engines are not reached
# over ssh. Nothing it prints holds a key.
set -euo pipefail

if [ -z "${FLEET_SSH_KEY:-}" ]; then
    echo "ci-ssh: FLEET_SSH_KEY is not set: no ssh:// hosts to reach"
    exit 0
fi
if [ -z "${FLEET_KNOWN_HOSTS:-}" ]; then
    echo "ci-ssh: FLEET_SSH_KEY is set but FLEET_KNOWN_HOSTS is not. Fix: set FLEET_KNOWN_HOSTS to each host's known_hosts line, checked out of band (ssh-keyscan on the host itself, compared with its console)" >&2
    exit 2
fi

umask 077
mkdir -p "$HOME/.ssh"
printf '%s\n' "$FLEET_SSH_KEY" > "$HOME/.ssh/fleet_deploy_key"
printf '%s\n' "$FLEET_KNOWN_HOSTS" > "$HOME/.ssh/known_hosts"
if ! ssh-keygen -y -f "$HOME/.ssh/fleet_deploy_key" > /dev/null 2>&1; then
    echo "ci-ssh: FLEET_SSH_KEY is not a private key ssh can read (its value is not shown). Fix: paste the whole key, header and footer lines included, with no passphrase" >&2
    exit 2
fi
if ! ssh-keygen -l -f "$HOME/.ssh/known_hosts" > /dev/null 2>&1; then
    echo "ci-ssh: FLEET_KNOWN_HOSTS holds no known_hosts line ssh can read. Fix: one '<host> <key type> <key>' line per host" >&2
    exit 2
fi

{
    if [ -n "${FLEET_SSH_CONFIG:-}" ]; then printf '%s\n\n' "$FLEET_SSH_CONFIG"; fi
    cat <<'CONFIG'
# agent-fleet (scripts/ci-ssh.sh): the deploy key, and host keys only as pinned.
Host *
  IdentityFile ~/.ssh/fleet_deploy_key
  IdentitiesOnly yes
  UserKnownHostsFile ~/.ssh/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
CONFIG
} >> "$HOME/.ssh/config"

echo "ci-ssh: deploy key loaded; $(ssh-keygen -l -f "$HOME/.ssh/known_hosts" | wc -l) pinned host key(s)"
