# shellcheck shell=bash
# The fleet packaging of `awf-bpf agent` (deploy/, docs/fleet.md): the
# Kubernetes manifests parse and give the agent what it needs, the systemd
# units (the agent's, the gc service and timer) pass `systemd-analyze verify`, and the example configuration and
# policies are consistent and pass `awf-bpf policy check`. Nothing here
# loads BPF or starts the agent.

DEPLOY=$ROOT/deploy
UNIT=$DEPLOY/systemd/awf-bpf-agent.service
# The agent command line of the design, in the unit and the DaemonSet.
AGENT_CMD='/usr/local/bin/awf-bpf agent --config /etc/awf-bpf/agent.json'

# deploy_py SCRIPT ARGS...: run a Python snippet that needs PyYAML; its
# output is in DEPLOY_OUT, its exit status in DEPLOY_RC.
deploy_py() {
	local script=$1
	shift
	"$PY" -c 'import yaml' 2>/dev/null || fail "$PY has no PyYAML (apt-get install python3-yaml)"
	DEPLOY_OUT=$("$PY" -c "$script" "$@" 2>&1)
	DEPLOY_RC=$?
	[ -z "$DEPLOY_OUT" ] || printf '%s\n' "$DEPLOY_OUT" | sed 's/^/#   py: /'
}

# Every YAML file under deploy/kubernetes parses (all its documents).
test_deploy_k8s_yaml_parses() {
	local f n=0
	for f in "$DEPLOY"/kubernetes/*.yaml "$DEPLOY"/kubernetes/*.yml; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		deploy_py 'import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]
assert docs, "no document"
for d in docs:
    assert isinstance(d, dict) and "kind" in d, "a document without kind"
    print(d["kind"])' "$f"
		assert_eq 0 "$DEPLOY_RC" "parsing $f"
	done
	assert_le 4 "$n" "YAML files under deploy/kubernetes"
}

# The DaemonSet: privileged, host PID and network, bpffs (Bidirectional),
# cgroupfs, /run/awf-bpf and the ConfigMap at /etc/awf-bpf; the design's
# command line and readiness probe; every ConfigMap key is mounted.
test_deploy_k8s_daemonset() {
	deploy_py 'import sys, yaml
d = sys.argv[1]
ds = [x for x in yaml.safe_load_all(open(d + "/daemonset.yaml")) if x and x["kind"] == "DaemonSet"]
assert len(ds) == 1, "one DaemonSet"
spec = ds[0]["spec"]["template"]["spec"]
c = [x for x in spec["containers"] if x["name"] == "agent"][0]
vols = {v["name"]: v for v in spec["volumes"]}
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
def host(path):
    m = mounts[path]
    return vols[m["name"]].get("hostPath", {}).get("path")
print("privileged", c["securityContext"].get("privileged") is True)
print("hostPID", spec.get("hostPID") is True)
print("hostNetwork", spec.get("hostNetwork") is True)
print("bpffs", host("/sys/fs/bpf"), mounts["/sys/fs/bpf"].get("mountPropagation"))
print("cgroup", host("/sys/fs/cgroup"))
print("run", host("/run/awf-bpf"))
cmv = vols[mounts["/etc/awf-bpf"]["name"]]["configMap"]
print("command", " ".join(c["command"] + c.get("args", [])))
print("probe", " ".join(c["readinessProbe"]["exec"]["command"]))
print("priority", spec.get("priorityClassName"))
print("tolerate-all", any(t.get("operator") == "Exists" and "key" not in t for t in spec.get("tolerations", [])))
print("strategy", ds[0]["spec"]["updateStrategy"]["type"], ds[0]["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"])
r = c["resources"]
print("guaranteed", r["requests"] == r["limits"] and {"cpu", "memory"} <= set(r["limits"]))
cm = [x for x in yaml.safe_load_all(open(d + "/configmap-policies.yaml")) if x and x["kind"] == "ConfigMap"][0]
assert cm["metadata"]["name"] == cmv["name"], "the volume names the ConfigMap"
items = {i["key"]: i["path"] for i in cmv["items"]}
print("unmounted-keys", sorted(set(cm["data"]) - set(items)) or "none")
print("agent.json-at", items.get("agent.json"))
print("policies-at", sorted({p.rsplit("/", 1)[0] for k, p in items.items() if k != "agent.json"}))
k = yaml.safe_load(open(d + "/kustomization.yaml"))
print("kustomize", sorted(k["resources"]) == ["configmap-policies.yaml", "daemonset.yaml", "namespace.yaml"])' \
		"$DEPLOY/kubernetes"
	assert_eq 0 "$DEPLOY_RC" "reading the DaemonSet"
	assert_contains "$DEPLOY_OUT" "privileged True"
	assert_contains "$DEPLOY_OUT" "hostPID True"
	assert_contains "$DEPLOY_OUT" "hostNetwork True"
	assert_contains "$DEPLOY_OUT" "bpffs /sys/fs/bpf Bidirectional" "bpffs hostPath, Bidirectional"
	assert_contains "$DEPLOY_OUT" "cgroup /sys/fs/cgroup" "cgroupfs hostPath"
	assert_contains "$DEPLOY_OUT" "run /run/awf-bpf" "control socket hostPath"
	assert_contains "$DEPLOY_OUT" "command $AGENT_CMD"
	assert_contains "$DEPLOY_OUT" "probe /usr/local/bin/awf-bpf status --agent"
	assert_contains "$DEPLOY_OUT" "priority system-node-critical"
	assert_contains "$DEPLOY_OUT" "tolerate-all True"
	assert_contains "$DEPLOY_OUT" "strategy RollingUpdate 1"
	assert_contains "$DEPLOY_OUT" "guaranteed True" "requests == limits (the agent outside the Burstable attach point)"
	assert_contains "$DEPLOY_OUT" "unmounted-keys none"
	assert_contains "$DEPLOY_OUT" "agent.json-at agent.json"
	assert_contains "$DEPLOY_OUT" "policies-at ['policies']"
	assert_contains "$DEPLOY_OUT" "kustomize True"
}

# The unit passes `systemd-analyze verify`. As shipped, the only complaint
# allowed is the missing /usr/local/bin/awf-bpf (not installed on a build
# machine); with ExecStart pointed at a stub, none at all.
test_deploy_systemd_verify() {
	local d=$TEST_TMP/units line
	command -v systemd-analyze >/dev/null || fail "systemd-analyze not installed"
	mkdir -p "$d/as-shipped" "$d/stub" "$TEST_TMP/bin"
	cp "$UNIT" "$d/as-shipped/awf-bpf-agent.service"
	assert_exit "$([ -x /usr/local/bin/awf-bpf ] && echo 0 || echo 1)" \
		systemd-analyze verify "$d/as-shipped/awf-bpf-agent.service"
	log "as shipped: ${LAST_OUT:-no output}"
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		assert_eq "awf-bpf-agent.service: Command /usr/local/bin/awf-bpf is not executable: No such file or directory" \
			"$line" "systemd-analyze verify, unit as shipped"
	done <<<"$LAST_OUT"

	printf '#!/bin/sh\nexit 0\n' >"$TEST_TMP/bin/awf-bpf"
	chmod 0755 "$TEST_TMP/bin/awf-bpf"
	sed "s#^ExecStart=/usr/local/bin/awf-bpf #ExecStart=$TEST_TMP/bin/awf-bpf #" "$UNIT" \
		>"$d/stub/awf-bpf-agent.service"
	assert_contains "$(cat "$d/stub/awf-bpf-agent.service")" "ExecStart=$TEST_TMP/bin/awf-bpf agent" "the stub copy"
	assert_exit 0 systemd-analyze verify "$d/stub/awf-bpf-agent.service"
	assert_eq "" "$LAST_OUT" "systemd-analyze verify with a stub ExecStart"
}

# The gc units: both pass `systemd-analyze verify` (ExecStart at a stub),
# the timer starts the service periodically, the service runs `awf-bpf gc`
# in the host's mount namespace (a private one could hide the pins), and
# `make install` installs both with ExecStart at PREFIX.
test_deploy_systemd_gc_units() {
	local d=$TEST_TMP/units svc=$DEPLOY/systemd/awf-bpf-gc.service tmr=$DEPLOY/systemd/awf-bpf-gc.timer
	command -v systemd-analyze >/dev/null || fail "systemd-analyze not installed"
	mkdir -p "$d" "$TEST_TMP/bin"
	printf '#!/bin/sh\nexit 0\n' >"$TEST_TMP/bin/awf-bpf"
	chmod 0755 "$TEST_TMP/bin/awf-bpf"
	assert_contains "$(cat "$svc")" "ExecStart=/usr/local/bin/awf-bpf gc" "gc service"
	sed "s#^ExecStart=/usr/local/bin/awf-bpf #ExecStart=$TEST_TMP/bin/awf-bpf #" "$svc" >"$d/awf-bpf-gc.service"
	cp "$tmr" "$d/awf-bpf-gc.timer"
	assert_exit 0 systemd-analyze verify "$d/awf-bpf-gc.service" "$d/awf-bpf-gc.timer"
	assert_eq "" "$LAST_OUT" "systemd-analyze verify of the gc units"
	assert_match "$(cat "$tmr")" "^OnUnitActiveSec=" "gc timer repeats"
	assert_match "$(cat "$tmr")" "^WantedBy=timers.target" "gc timer install"
	assert_match "$(cat "$svc")" "^Type=oneshot" "gc service type"
	if grep -Eq '^(ProtectSystem|PrivateTmp|PrivateNetwork|PrivateDevices|ProtectKernelTunables|ProtectControlGroups|TemporaryFileSystem|BindPaths)=' "$svc"; then
		fail "the gc service gets a mount namespace of its own: $(grep -E '^(Protect|Private|Temporary|Bind)' "$svc")"
	fi

	assert_exit 0 make -C "$ROOT" --no-print-directory install \
		DESTDIR="$TEST_TMP/dest" PREFIX=/opt/awf SYSTEMD_UNIT_DIR=/lib/systemd/system
	assert_file_exists "$TEST_TMP/dest/opt/awf/bin/awf-bpf" "installed binary"
	assert_file_exists "$TEST_TMP/dest/lib/systemd/system/awf-bpf-gc.timer" "installed timer"
	assert_match "$(cat "$TEST_TMP/dest/lib/systemd/system/awf-bpf-gc.service")" \
		"^ExecStart=/opt/awf/bin/awf-bpf gc$" "installed service's ExecStart"
	assert_contains "$LAST_OUT" "enable --now awf-bpf-gc.timer" "make install says how to enable the timer"
}

# The settings of the design, and none of those that would break the agent.
test_deploy_systemd_settings() {
	local unit caps want
	unit=$(cat "$UNIT")
	# shellcheck disable=SC2016 # $MAINPID is for systemd, not the shell
	for want in "Type=simple" "ExecStart=$AGENT_CMD" 'ExecReload=/bin/kill -HUP $MAINPID' \
		Restart=always RestartSec=1 KillMode=mixed NoNewPrivileges=yes ProtectSystem=strict \
		"ReadWritePaths=/sys/fs/bpf /sys/fs/cgroup /run/awf-bpf" ProtectHome=yes PrivateTmp=yes \
		ProtectKernelModules=yes ProtectKernelLogs=yes ProtectClock=yes RestrictNamespaces=net \
		LockPersonality=yes MemoryDenyWriteExecute=yes RestrictRealtime=yes \
		SystemCallArchitectures=native RuntimeDirectory=awf-bpf RuntimeDirectoryPreserve=yes \
		LimitMEMLOCK=infinity LimitNOFILE=65536 Delegate=no; do
		grep -qxF -- "$want" "$UNIT" || fail "unit: no line '$want'"
	done
	# Loopback and uplinks of the host; write access to cgroupfs.
	assert_not_contains "$(printf '%s\n' "$unit" | grep -v '^#')" "PrivateNetwork=" "unit"
	assert_not_contains "$(printf '%s\n' "$unit" | grep -v '^#')" "ProtectControlGroups=" "unit"
	caps='CAP_BPF CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_NET_ADMIN CAP_PERFMON CAP_SYS_ADMIN CAP_SYS_RESOURCE'
	for want in CapabilityBoundingSet AmbientCapabilities; do
		assert_eq "$caps" "$(printf '%s\n' "$unit" | sed -n "s/^$want=//p" | tr ' ' '\n' | sort | xargs)" "$want"
	done
}

# policy_check_file FILE: `awf-bpf policy check` on FILE, or on FILE minus
# "selector" while policy check does not know that member yet
# (SELECTOR_OK, set by policy_check_probe_selector).
policy_check_file() {
	local f=$1 checked=$1
	if [ "$SELECTOR_OK" != 1 ] && jq -e 'has("selector")' "$f" >/dev/null; then
		checked=$TEST_TMP/$(basename "$f" .json).no-selector.json
		jq 'del(.selector)' "$f" >"$checked" || fail "jq on $f"
	fi
	awf policy check "$checked"
	assert_eq 0 "$AWF_RC" "awf-bpf policy check $checked"
}

# Whether `policy check` accepts "selector" (it will once the agent lands).
policy_check_probe_selector() {
	local probe
	probe=$(policy_file selector-probe '{"version": 1, "selector": "/system.slice/x-*.service", "dns_servers": ["192.0.2.53"]}')
	awf policy check "$probe"
	if [ "$AWF_RC" = 0 ]; then
		SELECTOR_OK=1
		log "policy check accepts \"selector\": checking the files as they are"
	else
		assert_contains "$AWF_ERR" "selector" "the only complaint about the probe"
		SELECTOR_OK=0
		log "policy check does not know \"selector\" yet: checking the files without it"
	fi
}

# The example policies (systemd and the ConfigMap's) pass policy check,
# and validate against policy/schema.json plus a "selector" member.
test_deploy_policies_check() {
	local f n=0
	command -v jq >/dev/null || fail "jq not installed"
	policy_check_probe_selector
	mkdir -p "$TEST_TMP/cm"
	deploy_py 'import sys, yaml, json
cm = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x and x["kind"] == "ConfigMap"][0]
for k, v in cm["data"].items():
    json.loads(v)
    if k != "agent.json":
        open(sys.argv[2] + "/" + k, "w").write(v)' \
		"$DEPLOY/kubernetes/configmap-policies.yaml" "$TEST_TMP/cm"
	assert_eq 0 "$DEPLOY_RC" "extracting the ConfigMap's policies"
	for f in "$DEPLOY"/systemd/policies/*.json "$TEST_TMP"/cm/*.json; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		policy_check_file "$f"
	done
	assert_le 3 "$n" "example policies"

	"$PY" -c 'import jsonschema' 2>/dev/null || { log "no python3-jsonschema: schema not checked"; return 0; }
	deploy_py 'import sys, json, copy, jsonschema
schema = json.load(open(sys.argv[1]))
ok = "selector" in schema["properties"]
s = copy.deepcopy(schema)
s["properties"].setdefault("selector", {"oneOf": [
    {"type": "string", "minLength": 1},
    {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}]})
for f in sys.argv[2:]:
    jsonschema.validate(json.load(open(f)), s)
print("schema has selector:", ok)' \
		"$ROOT/policy/schema.json" "$DEPLOY"/systemd/policies/*.json "$TEST_TMP"/cm/*.json
	assert_eq 0 "$DEPLOY_RC" "the example policies against policy/schema.json (+ selector)"
}

# agent.json (systemd example and ConfigMap): only the design's members;
# every default_policy is a built-in or a policy that exists; every
# selector lies under an attach point; the systemd agent.json's
# policies_dir is where the example policies go.
test_deploy_agent_config() {
	deploy_py 'import sys, json, yaml, os, fnmatch
def check(name, cfg, policies):
    known = {"version", "attach", "policies_dir", "interfaces", "control_socket", "control_group"}
    assert set(cfg) <= known, "%s: unknown members %s" % (name, set(cfg) - known)
    assert cfg.get("version", 1) == 1, name + ": version"
    attach = [a["cgroup"] for a in cfg.get("attach", [])]
    for a in cfg.get("attach", []):
        assert set(a) <= {"cgroup", "default_policy"}, name + ": attach member"
        assert a["cgroup"].startswith("/"), name + ": attach cgroup path"
        dp = a.get("default_policy", "deny")
        assert dp in ("deny", "unrestricted") or dp in policies, "%s: default_policy %s: no such policy" % (name, dp)
    ifs = cfg.get("interfaces", "all")
    assert ifs == "all" or (isinstance(ifs, list) and all(isinstance(i, str) for i in ifs)), name + ": interfaces"
    for pname, p in policies.items():
        sel = p.get("selector", [])
        for g in [sel] if isinstance(sel, str) else sel:
            assert any(g.startswith(a.rstrip("/") + "/") for a in attach), \
                "%s: selector %s of %s is under no attach point %s" % (name, g, pname, attach)
    print(name, "ok:", len(attach), "attach points,", len(policies), "policies")
d = sys.argv[1]
cfg = json.load(open(d + "/systemd/agent.json"))
assert cfg.get("policies_dir") == "/etc/awf-bpf/policies", "systemd policies_dir"
assert cfg.get("control_socket") == "/run/awf-bpf/agent.sock", "control_socket"
pol = {f[:-5]: json.load(open(d + "/systemd/policies/" + f)) for f in os.listdir(d + "/systemd/policies") if f.endswith(".json")}
check("systemd/agent.json", cfg, pol)
cr = pol["ci-runner"]
assert cr["selector"] == "/system.slice/actions.runner.*.service", "ci-runner selector"
assert fnmatch.fnmatchcase("/system.slice/actions.runner.org-repo.host1.service", cr["selector"])
assert {"github.com", "*.githubusercontent.com", "registry.npmjs.org"} <= set(cr["allow_domains"]), "ci-runner allow_domains"
cm = [x for x in yaml.safe_load_all(open(d + "/kubernetes/configmap-policies.yaml")) if x and x["kind"] == "ConfigMap"][0]
data = {k: json.loads(v) for k, v in cm["data"].items()}
kcfg = data.pop("agent.json")
check("configmap agent.json", kcfg, {k[:-5]: v for k, v in data.items()})
assert any("selector" in v for v in data.values()), "a selector policy in the ConfigMap"
assert any("selector" not in v for v in data.values()), "a default policy in the ConfigMap"' \
		"$DEPLOY"
	assert_eq 0 "$DEPLOY_RC" "the example agent configurations"
}
