jvars "$OUT/apply.json" '{c: .actions[0].current, d: .actions[0].desired, m: .actions[0].message}'
check_eq current "$j_c" "mgmtdev=vdpasim_net mac=02:00:00:00:00:10 mtu=9000 driver=vhost_vdpa"
check_eq desired "$j_d" "mgmtdev=vdpasim_net mac=02:00:00:00:00:20 mtu=9000 driver=vhost_vdpa"
check_eq message "$j_m" "exists with another configuration; set recreate = yes to delete and re-create it"
/sbin/vdpa -j dev config show vdpa0 >"$OUT/config.json" 2>&1
check_eq mac-unchanged "$(jqr .config.vdpa0.mac "$OUT/config.json")" 02:00:00:00:00:10
