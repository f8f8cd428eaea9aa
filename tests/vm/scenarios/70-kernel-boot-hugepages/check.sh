# The kernel module's view of the boot arguments on the real kernel: running = desired,
# no next boot known (bootloader = none), state ok.
for t in hugepagesz=1G default_hugepagesz; do
	jvars "$OUT/audit.json" "{a: ([.actions[] | select(.module == \"kernel\" and .target == \"$t\")] | first // {})} |
		{state: .a.state, desired: .a.desired, running: .a.running, next: .a.next_boot, bl: .a.bootloader}"
	check_eq "$t-state" "$j_state" ok
	check_eq "$t-running-is-desired" "$j_running" "$j_desired"
	check_eq "$t-next-boot" "$j_next" null
	check_eq "$t-bootloader" "$j_bl" none
done
check_eq desired-group "$(jqr '.actions[] | select(.target == "hugepagesz=1G") | .desired' "$OUT/audit.json")" \
	"hugepagesz=1G hugepages=1"
case " $(cat /proc/cmdline) " in
*" hugepagesz=1G hugepages=1 "*) pass cmdline-has-group ;;
*) fail cmdline-has-group "the guest's /proc/cmdline lacks 'hugepagesz=1G hugepages=1': $(cat /proc/cmdline)" ;;
esac
