P=/sys/module/kvm_amd/parameters
check_eq nested-param "$(attr $P/nested)" 1
check_eq option-dropped "$(attr $P/dump_invalid_vmcb)" N
check_eq conf "$(grep -v '^#' /etc/modprobe.d/hostprep-kvm.conf)" "options kvm_amd nested=1"
hp report -j >"$OUT/report.json" 2>"$OUT/report.err"
check_eq nested-state "$(jqr .capabilities.kvm.nested_state "$OUT/report.json")" active
