#!/bin/bash
# The Ansible role (conf/ansible) under Debian's ansible-core, on three fake
# hosts of different topologies (connection local, each its own hostprep_root),
# asserted from Ansible's JSON callback (ansible.posix.json).  Runs the example
# playbook conf/ansible/site.yml itself; ansible-lint checks the role.
#
#   HOSTPREP=build/hostprep KMODEL=build/tests/libkmodel.so tests/ansible/run.sh
#
# hostprep runs through a wrapper (the role's hostprep_binary) that preloads the
# kernel model for the fake host named by --root and refuses any other root:
# no play can reach this machine's own /sys, /etc or /boot.  The role reboots
# only hostprep_root "/", and no test sets hostprep_reboot_ok.
# Ends with "N passed, N failed"; every step prints its time.
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
: "${HOSTPREP:?HOSTPREP must name the binary}" "${KMODEL:?KMODEL must name libkmodel.so}"
W=$(mktemp -d /tmp/hostprep-ansible.XXXXXX)
HOSTS=(small numa4 pci)
pass=0 failn=0 failed=()
trap 'exec 9>&-; [ -n "${HOSTPREP_ANSIBLE_KEEP:-}" ] || rm -rf "$W"' EXIT

for tool in ansible-playbook ansible-lint /usr/bin/python3; do
	command -v "$tool" >/dev/null || { echo "  FAIL ansible: $tool missing (make deps installs it)"; echo "0 passed, 1 failed"; exit 1; }
done

# --- the fake hosts -----------------------------------------------------------
mkdir -p "$W"/{bin,profiles,hosts,json,tmp}
for h in "${HOSTS[@]}"; do mkdir -p "$W/hosts/$h"; done
tests/fakehost/mkhost.sh "$W/hosts/small/root" --cpus 4 --nodes 1 >/dev/null
tests/fakehost/mkhost.sh "$W/hosts/numa4/root" --cpus 16 --nodes 4 --vendor amd --no-cpufreq >/dev/null
tests/fakehost/add-boot.sh "$W/hosts/numa4/root" grub >/dev/null
tests/fakehost/mkhost.sh "$W/hosts/pci/root" >/dev/null
tests/fakehost/add-pci.sh "$W/hosts/pci/root" >/dev/null
for h in "${HOSTS[@]}"; do : > "$W/hosts/$h/root/run/hostprep.lock"; done

cat > "$W/profiles/small.ini" <<'INI'
[profile]
name = small
[hugepages]
2M = 64
[thp]
enabled = never
[cpu]
governor = performance
[export]
prometheus = yes
INI
cat > "$W/profiles/numa4.ini" <<'INI'
[profile]
name = numa4
[kernel]
isolcpus = 4-15
iommu = pt
[hugepages]
2M = 256
[thp]
enabled = madvise
defrag = never
INI
cat > "$W/profiles/pci.ini" <<'INI'
[profile]
name = pci
[sriov 0000:03:00.0]
numvfs = 2
vf_driver = vfio-pci
[vfio]
devices = 0000:03:00.1
[export]
prometheus = yes
nfd = yes
INI
# Line 3 is wrong: the copy's validation must name it.
cat > "$W/profiles/broken.ini" <<'INI'
[thp]
enabled = never
frobnicate = 1
INI
sed 's/^enabled = never/enabled = always/' "$W/profiles/small.ini" > "$W/profiles/small-always.ini"
chmod 0644 "$W"/profiles/*.ini

cat > "$W/bin/hostprep-test" <<EOF
#!/bin/sh
# hostprep for the Ansible tests: the kernel model preloaded for the fake host
# named by --root; any other root is refused.  --json documents are kept for
# tests/json-check.py.
root= prev= json=
for a in "\$@"; do
	case \$prev in --root|-r) root=\$a ;; esac
	[ "\$a" = --json ] && json=1
	prev=\$a
done
case \$root in
	"$W"/hosts/*/root) ;;
	*) echo "hostprep-test: refusing --root '\$root': not a fake host of this test" >&2; exit 1 ;;
esac
export HOSTPREP_KMODEL_ROOT="\$root" LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL"
[ -z "\$json" ] && exec "$HOSTPREP" "\$@"
out=\$(mktemp "$W/json/ansible.XXXXXX")
"$HOSTPREP" "\$@" > "\$out"
rc=\$?
cat "\$out"
exit \$rc
EOF
chmod 0755 "$W/bin/hostprep-test"

{
	echo "kvm_hosts:"
	echo "  hosts:"
	for h in "${HOSTS[@]}"; do
		echo "    $h:"
		echo "      hostprep_root: $W/hosts/$h/root"
		echo "      hostprep_profile_src: $W/profiles/$h.ini"
	done
	echo "  vars:"
	echo "    ansible_connection: local"
	echo "    ansible_python_interpreter: /usr/bin/python3"
	echo "    ansible_become: false"
	echo "    hostprep_binary: $W/bin/hostprep-test"
	echo "    hostprep_profile_dest: \"{{ hostprep_root }}/etc/hostprep/profile.ini\""
	echo "    hostprep_facts_dir: \"{{ hostprep_root }}/etc/ansible/facts.d\""
	echo "    hostprep_wait: 30"
} > "$W/inventory.yml"

cat > "$W/ansible.cfg" <<EOF
[defaults]
roles_path = $REPO/conf/ansible/roles
stdout_callback = ansible.posix.json
retry_files_enabled = False
local_tmp = $W/tmp/local
remote_tmp = $W/tmp/remote
nocolor = True
forks = 3
[connection]
pipelining = True
EOF
export ANSIBLE_CONFIG=$W/ansible.cfg ANSIBLE_HOME=$W/tmp/home TMPDIR=$W/tmp

# --- helpers --------------------------------------------------------------------
fail() { echo "    FAIL: $*" >&2; exit 1; }
# play [ansible-playbook options]: runs the example playbook; $J is its JSON.
play() {
	J=$W/$STEP.json
	ansible-playbook -i "$W/inventory.yml" "$REPO/conf/ansible/site.yml" "$@" >"$J" 2>"$W/$STEP.err" 9>&-
	prc=$?
	jq -e . "$J" >/dev/null 2>&1 || fail "ansible-playbook $* printed no JSON (rc $prc): $(head -c 2000 "$J") $(head -c 2000 "$W/$STEP.err")"
}
# result HOST TASK-NAME-SUFFIX [PLAY-INDEX]: that task's result for HOST.
result() { jq -c --arg h "$1" --arg t "$2" --argjson p "${3:-0}" \
	'[.plays[$p].tasks[] | select(.task.name | endswith($t)) | .hosts[$h]] | last // empty' "$J"; }
rq() { local r; r=$(result "$1" "$2" "${4:-0}"); jq -r "$3" <<<"$r"; }
stat_of() { jq -r --arg h "$1" ".stats[\$h].$2" "$J"; }
assert_eq() { [ "$1" = "$2" ] || fail "${3:-value}: got '$1', expected '$2'"; }
assert_contains() { case "$1" in *"$2"*) ;; *) fail "${3:-output} does not contain '$2': ${1:0:1500}" ;; esac; }
tree() { (cd "$W/hosts/$1/root" && find . -path ./.kmodel -prune -o -path ./run/hostprep.lock -prune -o -print0 | sort -z |
	xargs -0 stat -c '%n %s %Y %a' && find . -path ./.kmodel -prune -o -type f -print0 | sort -z | xargs -0 cat | md5sum); }
writes() { cat "$W/hosts/$1/root/.kmodel/log" 2>/dev/null || true; }

APPLY="Converge the host (hostprep apply)"
AUDIT="Audit the host against the profile (hostprep audit)"
DIFF="Diff against the values after (hostprep actions)"

step() {
	local t0=$SECONDS
	if ( set -e; STEP=$1; "step_$1" ) >"$W/step.log" 2>&1; then
		pass=$((pass + 1)); echo "  ok   ansible $1 ($((SECONDS - t0)) s)"
	else
		failn=$((failn + 1)); failed+=("ansible $1"); echo "  FAIL ansible $1 ($((SECONDS - t0)) s)"
		sed 's/^/      /' "$W/step.log"
	fi
}

# --- the steps (in order: each starts from the state the previous one left) ------
step_lint() {
	(cd "$REPO/conf/ansible" && ansible-lint --offline --nocolor -p site.yml roles/hostprep) >"$W/lint.log" 2>&1 ||
		fail "ansible-lint: $(cat "$W/lint.log")"
	ansible-playbook -i "$W/inventory.yml" --syntax-check "$REPO/conf/ansible/site.yml" >/dev/null 2>"$W/syntax.err" ||
		fail "syntax-check: $(cat "$W/syntax.err")"
}

# Check mode before anything was installed: audit runs (it used to be skipped
# and from_json crashed on the empty stdout), reports changed, writes nothing
# on any host, and --diff shows the pending actions.
step_check_diff_reports_pending_and_writes_nothing() {
	local h d
	for h in "${HOSTS[@]}"; do tree "$h" > "$W/$h.tree"; rm -f "$W/hosts/$h/root/.kmodel/log"; done
	play --check --diff
	assert_eq "$prc" 0 "ansible-playbook --check --diff exit"
	for h in "${HOSTS[@]}"; do
		assert_eq "$(rq "$h" "$AUDIT" .rc)" 2 "$h audit rc"
		assert_eq "$(rq "$h" "$AUDIT" .changed)" true "$h audit changed"
		assert_eq "$(rq "$h" "$APPLY" .skipped)" true "$h apply skipped in check mode"
		[ "$(stat_of "$h" changed)" -gt 0 ] || fail "$h: no change reported"
		assert_eq "$(stat_of "$h" failures)" 0 "$h failures"
		tree "$h" | diff -u "$W/$h.tree" - >&2 || fail "$h: --check changed the host's tree"
		assert_eq "$(writes "$h")" "" "$h: kernel-model writes in check mode"
		d=$(rq "$h" "$DIFF" '.diff[0].before + "=>" + .diff[0].after')
		[ -n "$d" ] && [ "$d" != "=>" ] || fail "$h: no diff"
	done
	assert_eq "$(rq small "Record hostprep's results as facts" '.ansible_facts.hostprep_pending')" 3 "small pending"
	d=$(rq small "$DIFF" '.diff[0].before')
	assert_contains "$d" "hugepages:2M pages node0: 0" "small before"
	assert_contains "$d" "thp:enabled: madvise" "small before"
	d=$(rq small "$DIFF" '.diff[0].after')
	assert_contains "$d" "hugepages:2M pages node0: 64" "small after"
	assert_contains "$d" "cpu:governor cpus 0-3: performance" "small after"
	d=$(rq pci "$DIFF" '.diff[0].after')
	assert_contains "$d" "sriov:0000:03:00.0 numvfs: 2" "pci after"
	assert_contains "$d" "vfio:0000:03:00.1: vfio-pci" "pci after"
	# The staging and diff files are gone.
	assert_eq "$(ls -A "$W/tmp" | grep -v -e '^local$' -e '^remote$' -e '^home$' || true)" "" "temporary files left"
}

# First run: every host changes; the kernel arguments of numa4 wait for a
# reboot, which does not happen without hostprep_reboot_ok; local facts exist.
step_first_run_changes_all_three() {
	local h
	play
	assert_eq "$prc" 0 "ansible-playbook exit"
	for h in "${HOSTS[@]}"; do
		assert_eq "$(rq "$h" "$APPLY" .rc)" 2 "$h apply rc"
		assert_eq "$(rq "$h" "$APPLY" .changed)" true "$h apply changed"
		assert_eq "$(rq "$h" "$APPLY" '.stdout | fromjson | .schema_version')" 1 "$h document"
		assert_eq "$(stat_of "$h" failures)" 0 "$h failures"
		assert_eq "$(rq "$h" "Reboot for the pending kernel arguments" .skipped)" true "$h reboot skipped"
		cmp -s "$W/profiles/$h.ini" "$W/hosts/$h/root/etc/hostprep/profile.ini" || fail "$h: profile not installed"
		[ -x "$W/hosts/$h/root/etc/ansible/facts.d/hostprep.fact" ] || fail "$h: no local facts script"
	done
	assert_eq "$(rq numa4 "Record hostprep's results as facts" '.ansible_facts.hostprep_reboot_required')" true
	assert_eq "$(rq small "Record hostprep's results as facts" '.ansible_facts.hostprep_reboot_required')" false
	assert_eq "$(rq pci "Record hostprep's results as facts" '.ansible_facts.hostprep_capabilities.sriov[0].numvfs')" 2
	assert_eq "$(rq numa4 "Record hostprep's results as facts" \
		'[.ansible_facts.hostprep_actions[] | select(.id == "kernel:isolcpus") | .state] | first')" pending-reboot
	assert_contains "$(rq numa4 "Tell that a reboot is needed" .msg)" "set hostprep_reboot_ok: true"
	assert_contains "$(rq numa4 "Tell that a reboot is needed" .msg)" "kernel:isolcpus"
	assert_eq "$(rq small "Tell that a reboot is needed" .skipped)" true "small: no reboot notice"
	# The grub drop-in holds the arguments for the next boot.
	assert_contains "$(cat "$W/hosts/numa4/root/etc/default/grub.d/99-hostprep.cfg")" "isolcpus=4-15"
	# Exports, written by apply.
	[ -s "$W/hosts/small/root/var/lib/prometheus/node-exporter/hostprep.prom" ] || fail "small: no Prometheus textfile"
	assert_contains "$(cat "$W/hosts/pci/root/etc/kubernetes/node-feature-discovery/features.d/hostprep")" \
		"hostprep-sriov-vfs-ready=true"
	# The second play reads ansible_local.hostprep: the audit document.
	for h in "${HOSTS[@]}"; do
		assert_eq "$(rq "$h" "Read hostprep's local facts" '.ansible_facts.ansible_local.hostprep.schema_version' 1)" 1 "$h local facts"
		assert_eq "$(rq "$h" "Read hostprep's local facts" '.ansible_facts.ansible_local.hostprep.pending' 1)" 0 "$h pending"
		assert_contains "$(rq "$h" "Show each host's state" .msg 1)" "$h: 0 pending"
	done
	assert_eq "$(rq numa4 "Read hostprep's local facts" '.ansible_facts.ansible_local.hostprep.reboot_required' 1)" true
	assert_eq "$(rq pci "Read hostprep's local facts" '.ansible_facts.ansible_local.hostprep.capabilities.vfio.devices | length' 1)" 3
}

step_second_run_changes_nothing() {
	local h
	for h in "${HOSTS[@]}"; do rm -f "$W/hosts/$h/root/.kmodel/log"; done
	play
	assert_eq "$prc" 0 "ansible-playbook exit"
	for h in "${HOSTS[@]}"; do
		assert_eq "$(stat_of "$h" changed)" 0 "$h: changed tasks on the second run"
		assert_eq "$(stat_of "$h" failures)" 0 "$h failures"
		assert_eq "$(rq "$h" "$APPLY" .rc)" 0 "$h apply rc"
		assert_eq "$(writes "$h")" "" "$h: kernel-model writes on the second run"
	done
	# Still pending a reboot, still not rebooted.
	assert_eq "$(rq numa4 "Record hostprep's results as facts" '.ansible_facts.hostprep_reboot_required')" true
	assert_eq "$(rq numa4 "Reboot for the pending kernel arguments" .skipped)" true "numa4 reboot skipped"
}

step_broken_profile_fails_at_the_copy() {
	play --limit small -e "hostprep_profile_src=$W/profiles/broken.ini"
	assert_eq "$prc" 2 "ansible-playbook exit"
	assert_eq "$(rq small "Install the host profile (checked by hostprep validate)" .failed)" true "copy failed"
	assert_contains "$(rq small "Install the host profile (checked by hostprep validate)" .stderr)" \
		":3: unknown key 'frobnicate' in [thp]" "validate's message"
	assert_eq "$(rq small "$APPLY" .changed)" "" "apply ran after a failed copy"
	cmp -s "$W/profiles/small.ini" "$W/hosts/small/root/etc/hostprep/profile.ini" || fail "the broken profile was installed"
}

step_failing_action_fails_the_task_with_its_message() {
	local r=$W/hosts/small/root
	mkdir -p "$r/.kmodel/fail/sys/kernel/mm/transparent_hugepage"
	echo 22 > "$r/.kmodel/fail/sys/kernel/mm/transparent_hugepage/enabled"
	play --limit small -e "hostprep_profile_src=$W/profiles/small-always.ini"
	rm -rf "$r/.kmodel/fail"
	assert_eq "$prc" 2 "ansible-playbook exit"
	assert_eq "$(rq small "$APPLY" .rc)" 4 "apply rc"
	assert_eq "$(rq small "Fail with hostprep's reasons" .failed)" true "fail task"
	assert_contains "$(rq small "Fail with hostprep's reasons" .msg)" "hostprep apply exit 4, failed: thp enabled: "
	assert_contains "$(rq small "Fail with hostprep's reasons" .msg)" "Invalid argument"
	assert_eq "$(stat_of small failures)" 1 "failures"
}

step_lock_held_beyond_wait_fails_with_the_holder() {
	exec 9>"$W/hosts/pci/root/run/hostprep.lock"
	flock 9
	echo $$ >&9   # a live process: a dead pid is never named
	play --limit pci -e hostprep_wait=1
	exec 9>&-
	assert_eq "$prc" 2 "ansible-playbook exit"
	assert_eq "$(rq pci "$APPLY" .rc)" 1 "apply rc"
	assert_contains "$(rq pci "Fail with hostprep's reasons" .msg)" "hostprep apply could not run (exit 1): another hostprep run (pid $$) held"
	assert_contains "$(rq pci "Fail with hostprep's reasons" .msg)" "for the 1 s of --wait"
}

step_json_documents_match_the_schema() {
	[ "$(ls "$W/json" | wc -l)" -gt 10 ] || fail "only $(ls "$W/json" | wc -l) documents kept"
	/usr/bin/python3 tests/json-check.py agent/hostprep.schema.json "$W/json" >&2 || fail "invalid documents"
}

for s in lint check_diff_reports_pending_and_writes_nothing first_run_changes_all_three second_run_changes_nothing broken_profile_fails_at_the_copy \
	failing_action_fails_the_task_with_its_message lock_held_beyond_wait_fails_with_the_holder \
	json_documents_match_the_schema; do
	step "$s"
done
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $failn failed"
[ "$failn" = 0 ]
