# Assumes kvm_amd (TCG's -cpu max); leaves nested off for 73, which turns it back on.
P=/sys/module/kvm_amd/parameters
check_eq nested-param "$(attr $P/nested)" 0 "kvm_amd nested after the reload"
check_eq option-honoured "$(attr $P/dump_invalid_vmcb)" Y "kvm_amd dump_invalid_vmcb from modprobe.d"
check_eq conf "$(grep -v '^#' /etc/modprobe.d/hostprep-kvm.conf)" "options kvm_amd nested=0 dump_invalid_vmcb=Y"
jvars "$OUT/apply.json" '{a: ([.actions[] | select(.target == "kvm_amd nested")] | first // {})} | {state: .a.state, msg: .a.message, cur: .a.current}'
check_eq apply-state "$j_state" changed
check_eq apply-readback "$j_cur" 0
check_eq apply-message "$j_msg" "reloaded kvm_amd"
# A file sorted after ours turns nested back on at the next load: libkmod sees it (report
# says pending) and audit fails naming the file.  Removed again afterwards.
echo "options kvm_amd nested=1" >/etc/modprobe.d/zz-local.conf
hp report -j >"$OUT/report.json" 2>"$OUT/report.err"
check_eq pending-state "$(jqr .capabilities.kvm.nested_state "$OUT/report.json")" pending
hp -j -p "$DIR/profile.ini" audit >"$OUT/conflict.json" 2>"$OUT/conflict.err"
check_eq conflict-exit "$?" 4
jvars "$OUT/conflict.json" '{a: ([.actions[] | select(.target == "/etc/modprobe.d/hostprep-kvm.conf")] | first // {})} | {state: .a.state, msg: .a.message}'
check_eq conflict-state "$j_state" failed
case $j_msg in
*/etc/modprobe.d/zz-local.conf*) pass conflict-names-file ;;
*) fail conflict-names-file "message does not name /etc/modprobe.d/zz-local.conf: $j_msg" ;;
esac
rm /etc/modprobe.d/zz-local.conf
