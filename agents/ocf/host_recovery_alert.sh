#!/bin/sh
#
# Pacemaker alert agent of host-recovery: when a compute node's fencing succeeded, publish a
# confirmed host-down with the fencing evidence. It runs on every cluster node for the same
# event; the incident id comes from the node's CIB incident record (created atomically by the
# first reporter, OCF monitor or alert agent), so every reporter yields one incident.
#
# Alert instance attributes (pcs alert create ... options cli=... config=...) arrive as
# environment variables:
#   cli     path of host-recovery-notify (default /opt/host-recovery/bin/host-recovery-notify)
#   config  configuration file (default /etc/host-recovery/host-recovery.conf)
#   nodes   optional space-separated compute node names; other fenced nodes are ignored

cli="${cli:-/opt/host-recovery/bin/host-recovery-notify}"
config="${config:-/etc/host-recovery/host-recovery.conf}"

[ "${CRM_alert_kind}" = "fencing" ] || exit 0
[ "${CRM_alert_rc}" = "0" ] || exit 0          # only a successful fencing means "down"
[ -n "${CRM_alert_node}" ] || exit 0
case "${CRM_alert_task}" in
    off|reboot) ;;
    *) exit 0 ;;                               # unfencing (on) is not a failure
esac
if [ -n "${nodes}" ]; then
    case " ${nodes} " in
        *" ${CRM_alert_node} "*) ;;
        *) exit 0 ;;
    esac
fi

exec "${cli}" alert --node "${CRM_alert_node}" --config-file "${config}"
