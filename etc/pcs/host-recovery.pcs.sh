#!/bin/sh
# Deploy host-recovery's Pacemaker agents (run once, on one controller, as root).
# Adjust the paths (or set them in the environment, as `make demo` does): CLI is
# host-recovery-notify in host-recovery's virtualenv, ALERT the installed alert agent.
set -e
CLI=${CLI:-/opt/host-recovery/bin/host-recovery-notify}
CONFIG=${CONFIG:-/etc/host-recovery/host-recovery.conf}
ALERT=${ALERT:-/usr/local/lib/host-recovery/host_recovery_alert.sh}
SHARE=/opt/host-recovery/share/host-recovery/agents

# On EVERY controller: install the OCF agent and the alert agent.
#   install -D -m 755 $SHARE/HostRecovery /usr/lib/ocf/resource.d/host-recovery/HostRecovery
#   install -D -m 755 $SHARE/host_recovery_alert.sh /usr/local/lib/host-recovery/host_recovery_alert.sh

# 1. The resource agent: one primitive (not a clone), kept off compute nodes.
pcs resource create host-recovery ocf:host-recovery:HostRecovery \
    cli="$CLI" config="$CONFIG" \
    op monitor interval=10s timeout=60s \
    op start timeout=20s op stop timeout=20s \
    meta migration-threshold=3 failure-timeout=120s
# The monitor fails after [agent] scan_error_threshold Pacemaker read errors in a row; each
# failure restarts the resource and past migration-threshold bans it: failure-timeout lets
# the ban expire once attrd/CIB answer again.
# Keep it on controllers, e.g. with a node attribute osprole=controller:
#   pcs constraint location host-recovery rule score=-INFINITY osprole ne controller

# 2. The alert agent: fires on every node for each fencing; one incident id anyway.
#    (Its id differs from the resource's: Pacemaker ids are unique across the CIB.)
pcs alert create id=host-recovery-alert \
    path="$ALERT" \
    options cli="$CLI" config="$CONFIG"
pcs alert recipient add host-recovery-alert value=host-recovery id=host-recovery-recipient
# Optional: only these fenced nodes are compute nodes
#   pcs alert update host-recovery-alert options nodes="compute-1 compute-2"

# Inspect incidents (pending/sent) kept in the CIB, one property set per failed node:
#   cibadmin --query --scope crm_config | grep host-recovery-incident-
