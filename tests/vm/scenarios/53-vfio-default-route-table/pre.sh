# A default route in table 100 (not the main table) on the e1000e's interface, set up
# with the guest's own ip; check.sh takes it down again for the scenarios after this one.
d=/sys/bus/pci/devices/0000:02:00.0
ifc=$(ls $d/net)
echo "$ifc" >"$OUT/ifc"
/sbin/ip link set "$ifc" up
/sbin/ip route add default dev "$ifc" table 100
