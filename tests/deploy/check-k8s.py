#!/usr/bin/env python3
"""check-k8s.py BUILD_DIR: structural check of deploy/k8s (kubeconform is not packaged).

- kustomization.yaml lists every manifest file of the folder and nothing that is missing;
- every document has apiVersion, kind (with the apiVersion that kind has) and metadata.name;
  names are unique per kind;
- Deployments/StatefulSets: selector.matchLabels is a subset of the template's labels; replicas
  2 for auth, gateway, messager, miner and 1 for devnet and wallet; every container has a
  readiness and a liveness probe (venus daemons: httpGet /healthcheck on a named port the
  container declares), resource requests and limits (cpu, memory), and so do init containers;
  every volumeMount names a volume of the pod; pods run as non-root;
- every ConfigMap, Secret (and key), PersistentVolumeClaim and Service that something refers to
  exists in the set; every Service selects some pod template and its targetPort is a port name
  of that pod; a StatefulSet's serviceName is a headless Service;
- every $(VAR) in args, command and env values, and every @VAR@ of a config template an init
  container renders, is defined for that container (env, envFrom);
- host names in venus-params (AUTH_URL, GATEWAY_*, NODE_URL, PG_HOST) are Services of the set;
- each daemon's args use only flags of its binary (--help / run --help, BUILD_DIR), and the
  config templates only keys the daemon's config code knows (*/{msgr,miner}-config.c).
"""
import glob
import os
import re
import sys

import yaml

import deploylib

from deploylib import TOP, check_flags, err, finish

K8S = os.path.join(TOP, "deploy", "k8s")
API = {"Namespace": "v1", "ConfigMap": "v1", "Secret": "v1", "Service": "v1", "PersistentVolumeClaim": "v1",
       "Deployment": "apps/v1", "StatefulSet": "apps/v1", "PodDisruptionBudget": "policy/v1"}
REPLICAS = {"venus-auth": 2, "venus-gateway": 2, "venus-messager": 2, "venus-miner": 2, "venus-devnet": 1,
            "venus-wallet": 1}
BINS = {"venus-" + d: rel for d, rel in deploylib.BINS.items()}
CONFIG_SOURCES = {"messager.toml": "messager/msgr-config.c", "miner.toml": "minerd/miner-config.c"}
HA_SOURCE = "common/include/vc/ha-ops.h"

def load():
    docs = []
    for path in sorted(glob.glob(os.path.join(K8S, "*.yaml"))):
        name = os.path.basename(path)
        if name == "kustomization.yaml":
            continue
        for i, d in enumerate(yaml.safe_load_all(open(path))):
            if d is None:
                continue
            if not isinstance(d, dict):
                err(name, f"document {i} is not a mapping")
                continue
            docs.append((name, d))
    return docs


def check_kustomization(files):
    k = yaml.safe_load(open(os.path.join(K8S, "kustomization.yaml")))
    if k.get("kind") != "Kustomization" or not str(k.get("apiVersion", "")).startswith("kustomize.config.k8s.io/"):
        err("kustomization.yaml", "not a Kustomization")
    listed = k.get("resources") or []
    for f in sorted(set(files) - set(listed)):
        err("kustomization.yaml", f"does not list {f}")
    for f in listed:
        if not os.path.exists(os.path.join(K8S, f)):
            err("kustomization.yaml", f"lists {f}, which does not exist")
    if len(listed) != len(set(listed)):
        err("kustomization.yaml", "lists a file twice")


def config_keys(source):
    """Keys a daemon's config code knows: the TOML of its defaults string and the
    vc_conf_get_* key literals ("Section.Key")."""
    text = open(os.path.join(TOP, source)).read()
    defaults = "\n".join(re.findall(r'^\s*"(.*)\\n"\s*\\?$', text, re.M))
    return set(toml_keys(defaults)) | set(re.findall(r'vc_conf_get_[a-z_]+\([a-z]+, "([A-Za-z0-9_.]+)"', text))


def toml_keys(text):
    keys, section = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"\[+([^\]]+)\]+$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"([A-Za-z0-9_]+)\s*=", line)
        if m:
            keys.append(f"{section}.{m.group(1)}" if section else m.group(1))
    return keys


def main():
    if len(sys.argv) != 2:
        print("usage: check-k8s.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    docs = load()
    files = sorted({f for f, _ in docs} | {os.path.basename(p) for p in glob.glob(os.path.join(K8S, "*.yaml"))}
                   - {"kustomization.yaml"})
    check_kustomization(files)

    by_kind = {}
    for f, d in docs:
        kind, name = d.get("kind"), (d.get("metadata") or {}).get("name")
        where = f"{f}: {kind}/{name}"
        if not d.get("apiVersion") or not kind or not name:
            err(where, "needs apiVersion, kind and metadata.name")
            continue
        if kind in API and d["apiVersion"] != API[kind]:
            err(where, f"apiVersion must be {API[kind]}")
        elif kind not in API:
            err(where, f"unexpected kind {kind}")
        if name in by_kind.setdefault(kind, {}):
            err(where, "defined twice")
        by_kind[kind][name] = d

    cms = {n: d.get("data") or {} for n, d in by_kind.get("ConfigMap", {}).items()}
    secrets = {n: {**(d.get("stringData") or {}), **(d.get("data") or {})}
               for n, d in by_kind.get("Secret", {}).items()}
    pvcs = set(by_kind.get("PersistentVolumeClaim", {}))
    services = by_kind.get("Service", {})
    workloads = {**by_kind.get("Deployment", {}), **by_kind.get("StatefulSet", {})}
    params = cms.get("venus-params", {})
    if not params:
        err("params.yaml", "no ConfigMap venus-params")

    for name, w in workloads.items():
        where = f"{w['kind']}/{name}"
        spec = w.get("spec", {})
        tmpl = spec.get("template", {})
        tlabels = (tmpl.get("metadata") or {}).get("labels") or {}
        sel = (spec.get("selector") or {}).get("matchLabels") or {}
        if not sel or any(tlabels.get(k) != v for k, v in sel.items()):
            err(where, f"selector {sel} does not match the template labels {tlabels}")
        if name in REPLICAS and spec.get("replicas") != REPLICAS[name]:
            err(where, f"replicas must be {REPLICAS[name]}, is {spec.get('replicas')}")
        if w["kind"] == "StatefulSet":
            svc = services.get(spec.get("serviceName"))
            if not svc or svc["spec"].get("clusterIP") != "None":
                err(where, f"serviceName {spec.get('serviceName')} is not a headless Service of the set")
        pod = tmpl.get("spec") or {}
        psc = pod.get("securityContext") or {}
        if name.startswith("venus-") and name != "venus-postgres" and not psc.get("runAsNonRoot"):
            err(where, "pods must set runAsNonRoot")
        vols = {v["name"]: v for v in pod.get("volumes") or []}
        for v in vols.values():
            if "configMap" in v and v["configMap"]["name"] not in cms:
                err(where, f"volume {v['name']}: no ConfigMap {v['configMap']['name']}")
            if "secret" in v:
                s = v["secret"]["secretName"]
                if s not in secrets:
                    err(where, f"volume {v['name']}: no Secret {s}")
                for item in v["secret"].get("items") or []:
                    if item["key"] not in secrets.get(s, {}):
                        err(where, f"volume {v['name']}: Secret {s} has no key {item['key']}")
            if "persistentVolumeClaim" in v and v["persistentVolumeClaim"]["claimName"] not in pvcs:
                err(where, f"volume {v['name']}: no PersistentVolumeClaim {v['persistentVolumeClaim']['claimName']}")
        vct = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates") or []}
        for kind, containers in (("init", pod.get("initContainers") or []), ("main", pod.get("containers") or [])):
            for c in containers:
                check_container(f"{where} container {c.get('name')}", name, kind, c, vols, vct, cms, secrets,
                                params, build)

    for name, s in services.items():
        sel = (s.get("spec") or {}).get("selector") or {}
        pods = [w for w in workloads.values()
                if all(((w["spec"]["template"].get("metadata") or {}).get("labels") or {}).get(k) == v
                       for k, v in sel.items())]
        if not sel or not pods:
            err(f"Service/{name}", f"selector {sel} matches no pod template")
            continue
        port_names = {p.get("name") for w in pods for c in w["spec"]["template"]["spec"]["containers"]
                      for p in c.get("ports") or []}
        for p in s["spec"].get("ports") or []:
            if isinstance(p.get("targetPort"), str) and p["targetPort"] not in port_names:
                err(f"Service/{name}", f"targetPort {p['targetPort']} is no port name of its pods")

    for key in ("AUTH_URL", "NODE_URL", "PG_HOST") + tuple(k for k in params if k.startswith("GATEWAY_")):
        v = str(params.get(key, ""))
        host = re.sub(r"^[a-z]+://", "", v).split(":")[0].split("/")[0]
        parts = host.split(".")
        if len(parts) >= 2 and re.fullmatch(r".*-\d+", parts[0]):  # <statefulset>-<n>.<service>
            sts = by_kind.get("StatefulSet", {}).get(parts[0].rsplit("-", 1)[0])
            if not sts or parts[1] not in services or int(parts[0].rsplit("-", 1)[1]) >= sts["spec"]["replicas"]:
                err("params.yaml", f"{key}={v}: no such StatefulSet pod behind Service {parts[1]}")
        elif parts[0] not in services:
            err("params.yaml", f"{key}={v}: no Service {parts[0]} in the set")

    for f, d in docs:
        if d.get("kind") == "ConfigMap" and d["metadata"]["name"] == "venus-config-templates":
            for tmpl, source in CONFIG_SOURCES.items():
                # both daemons embed the [HA] section of libvc's ha-ops.h (VC_HA_CONF_DEFAULTS)
                known = config_keys(source) | config_keys(HA_SOURCE)
                for k in toml_keys(d["data"].get(tmpl, "")):
                    if k not in known:
                        err(f"configs.yaml {tmpl}", f"key {k} is not known to {source} or {HA_SOURCE}")

    return finish(f"{len(docs)} documents in {len(files)} files")


def check_container(where, workload, kind, c, vols, vct, cms, secrets, params, build):
    res = c.get("resources") or {}
    for part in ("requests", "limits"):
        for r in ("cpu", "memory"):
            if not (res.get(part) or {}).get(r):
                err(where, f"resources.{part}.{r} missing")
    for m in c.get("volumeMounts") or []:
        if m["name"] not in vols and m["name"] not in vct:
            err(where, f"volumeMount {m['name']} names no volume of the pod")
    defined = set()
    for ef in c.get("envFrom") or []:
        if "configMapRef" in ef:
            n = ef["configMapRef"]["name"]
            if n not in cms:
                err(where, f"envFrom: no ConfigMap {n}")
            defined |= set(cms.get(n, {}))
        if "secretRef" in ef:
            n = ef["secretRef"]["name"]
            if n not in secrets:
                err(where, f"envFrom: no Secret {n}")
            defined |= set(secrets.get(n, {}))
    for e in c.get("env") or []:
        vf = e.get("valueFrom") or {}
        if "secretKeyRef" in vf:
            s, k = vf["secretKeyRef"]["name"], vf["secretKeyRef"]["key"]
            if k not in secrets.get(s, {}):
                err(where, f"env {e['name']}: no key {k} in Secret {s}")
        if "configMapKeyRef" in vf:
            s, k = vf["configMapKeyRef"]["name"], vf["configMapKeyRef"]["key"]
            if k not in cms.get(s, {}):
                err(where, f"env {e['name']}: no key {k} in ConfigMap {s}")
        for ref in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", str(e.get("value", ""))):
            if ref not in defined:
                err(where, f"env {e['name']} uses $({ref}) before it is defined")
        defined.add(e["name"])
    for arg in (c.get("args") or []) + (c.get("command") or []):
        for ref in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", str(arg)):
            if ref not in defined:
                err(where, f"args use $({ref}), which is not defined")
    cmd = c.get("command") or []
    if len(cmd) >= 3 and cmd[1] == "/templates/render.sh":
        tmpl = os.path.basename(cmd[2])
        text = cms.get("venus-config-templates", {}).get(tmpl)
        if text is None:
            err(where, f"renders {tmpl}, which venus-config-templates lacks")
        else:
            for ref in sorted(set(re.findall(r"@([A-Z_0-9]+)@", text)) - defined):
                err(where, f"{tmpl} needs @{ref}@, which the container does not define")
    if kind != "main":
        return
    ports = {p.get("name") for p in c.get("ports") or []}
    for pk in ("readinessProbe", "livenessProbe"):
        p = c.get(pk)
        if not p:
            err(where, f"{pk} missing")
            continue
        if workload in BINS:
            hg = p.get("httpGet") or {}
            if hg.get("path") != "/healthcheck" or hg.get("port") not in ports:
                err(where, f"{pk} must be httpGet /healthcheck on a declared port name")
    if workload in BINS:
        check_flags(f"{where} args", os.path.join(build, BINS[workload]), workload, c.get("args") or [])


if __name__ == "__main__":
    sys.exit(main())
