granted=$(attr /sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages)
# the premise: the kernel really granted fewer than asked, and kept the boot page
check_eq kernel-granted "$granted" 1 "1 GiB pages on node 1 after the runtime request"
for step in apply apply2; do
	msg=$(jqr '[.actions[] | select(.state == "failed") | .message] | join("; ")' "$OUT/$step.json")
	check "$step-failed-action" "no failed action in the output" test -n "$msg"
	# the message must say what the kernel granted (and what was asked)
	if echo "$msg" | grep -qw "$granted" && echo "$msg" | grep -qw 3; then
		pass "$step-message-numbers"
	else
		fail "$step-message-numbers" "message does not give granted $granted of 3: '$msg'"
	fi
	check_eq "$step-json-failed" "$(jqr .failed "$OUT/$step.json")" true
done
