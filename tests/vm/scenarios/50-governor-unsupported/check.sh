check no-cpufreq "the premise does not hold: the guest has cpufreq" \
	test ! -e /sys/devices/system/cpu/cpu0/cpufreq
states=$(jqr '[.actions[] | select(.module == "cpu") | .state] | unique | join(" ")' "$OUT/apply.json")
check_eq state "$states" unsupported "states of the cpu actions"
