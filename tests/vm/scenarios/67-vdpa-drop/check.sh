jvars "$OUT/apply.json" '{a: ([.actions[] | select(.module == "vdpa") | "\(.target)=\(.state)"] | join(",")),
	m: (.actions[] | select(.target == "vdpa0") | .message)}'
check_eq apply-actions "$j_a" "vdpa0=changed"
check_eq message "$j_m" "deleted (created by hostprep, no longer in the profile)"
check_eq devices "$(/sbin/vdpa -j dev show | /usr/bin/jq -r '.dev | keys | join(" ")')" manual0
check no-record "/var/lib/hostprep/vdpa is still there" test ! -e /var/lib/hostprep/vdpa
/sbin/vdpa dev del manual0
