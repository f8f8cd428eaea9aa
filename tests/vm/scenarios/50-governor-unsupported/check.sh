check no-cpufreq "the premise does not hold: the guest has cpufreq" \
	test ! -e /sys/devices/system/cpu/cpu0/cpufreq
for step in audit apply; do
	states=$(jqr '[.actions[] | select(.module == "cpu") | .state] | unique | join(" ")' "$OUT/$step.json")
	check_eq "$step-state" "$states" unsupported "states of the cpu actions"
done
