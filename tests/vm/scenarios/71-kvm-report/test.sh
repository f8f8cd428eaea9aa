# capabilities.kvm on the real kernel: under TCG, -cpu max is an AMD CPU with svm, so
# kvm_amd loads; nested_state follows its nested parameter (no modprobe.d file yet).
hp report -j >"$OUT/report.json" 2>"$OUT/report.err"
check_eq exit "$?" 0 "hostprep report -j ($(head -c 200 "$OUT/report.err"))"
jvars "$OUT/report.json" '.capabilities.kvm | {module: (.module // ""), nested: (.nested // ""), state: .nested_state, dev: .dev_kvm}'
mod=$(sed -n 's/^\(kvm_intel\|kvm_amd\) .*/\1/p' /proc/modules)
check_eq module "$j_module" "$mod"
if [ -z "$mod" ]; then
	check_eq nested-state "$j_state" unavailable
else
	p=$(cat /sys/module/$mod/parameters/nested)
	check_eq nested-param "$j_nested" "$p"
	case $p in Y | 1) want=active ;; *) want=off ;; esac
	check_eq nested-state "$j_state" "$want"
fi
if [ -c /dev/kvm ]; then dev=true; else dev=false; fi
check_eq dev-kvm "$j_dev" "$dev"
