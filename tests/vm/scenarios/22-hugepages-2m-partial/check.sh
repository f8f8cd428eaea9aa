granted=$(attr /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages)
# the premise: more than the 48 that 21-hugepages-2m-per-node left, fewer than asked
check kernel-granted-part "the kernel granted $granted of 1200 (want more than 48, fewer than 1200)" \
	test "$granted" -gt 48 -a "$granted" -lt 1200
jvars "$OUT/apply.json" '{changed, failed, msg: ([.actions[] | select(.state == "failed") | .message] | join("; "))}'
check_eq json-changed "$j_changed" true
check_eq json-failed "$j_failed" true
if echo "$j_msg" | grep -qw "$granted" && echo "$j_msg" | grep -qw 1200; then
	pass message-numbers
else
	fail message-numbers "the failed action's message does not give granted $granted of 1200: '$j_msg'"
fi
