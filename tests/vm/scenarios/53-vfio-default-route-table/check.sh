d=/sys/bus/pci/devices/0000:02:00.0
ifc=$(cat "$OUT/ifc")
check_eq main-table-has-no-default "$(awk '$2 == "00000000" {print $1}' /proc/net/route)" "" \
	"/proc/net/route's default routes (the scenario is about another table)"
# "linkdown" comes and goes with the emulated NIC's carrier: the route is what counts.
check_eq route-in-table-100 "$(/sbin/ip route show table 100 | head -n 1 | sed "s/ linkdown//; s/ *$//")" \
	"default dev $ifc scope link"
jvars "$OUT/apply.json" '{msg: ([.actions[] | select(.target == "0000:02:00.0")] | first | .message),
	refused: .capabilities.vfio.refused[0].address}'
check_eq refused-reason "$j_msg" \
	"refused: the host depends on it: it carries the default route ($ifc) (force = yes overrides)"
check_eq refused-listed "$j_refused" 0000:02:00.0
check_eq driver "$(basename "$(readlink $d/driver)")" e1000e
/sbin/ip route del default dev "$ifc" table 100
/sbin/ip link set "$ifc" down
