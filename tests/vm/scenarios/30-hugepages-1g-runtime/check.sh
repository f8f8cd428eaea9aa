granted=$(attr /sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages)
# the premise: the kernel really granted fewer than asked, and kept the boot page
check_eq kernel-granted "$granted" 1 "1 GiB pages on node 1 after the runtime request"
for step in apply apply2; do
	jvars "$OUT/$step.json" '{failed, msg: ([.actions[] | select(.state == "failed") | .message] | join("; "))}'
	check_eq "$step-json-failed" "$j_failed" true
	# the message must say what the kernel granted and what was asked
	if echo "$j_msg" | grep -qw "$granted" && echo "$j_msg" | grep -qw 3; then
		pass "$step-message-numbers"
	else
		fail "$step-message-numbers" "the failed action's message does not give granted $granted of 3: '$j_msg'"
	fi
done
