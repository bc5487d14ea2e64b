#!/usr/bin/env python3
"""check-observability.py BUILD_DIR: deploy/prometheus.yml, deploy/alerts.yml and
deploy/grafana/venus-c.json against the real daemons.

- promtool check config (prometheus.yml, with its rule file), promtool check rules, and
  promtool test rules tests/deploy/alerts-test.yml (the alerts fire on trouble, not otherwise);
- prometheus.yml scrapes every daemon that serves /metrics, at its default port;
- the dashboard loads as JSON; panel ids are unique; every panel has queries, every query an
  expression; the panels cover chain head, message states, messages per address, blocks won
  and missed, the lease holder, auth verify rate and latency, gateway connections and sign
  latency;
- the whole suite is started from BUILD_DIR (tests/deploy/stack.py: auth, gateway, devnet,
  wallet, messager, prover, miner on 127.0.0.1 port 0), a message is pushed and mined, and every
  metric name in a dashboard query or an alert expression (`up` excepted: Prometheus makes it)
  must appear in some daemon's /metrics output.
"""
import json
import os
import re
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from deploylib import TOP, err, errors, finish  # noqa: E402

DEPLOY = os.path.join(TOP, "deploy")
PORTS = {"venus-auth": 8989, "venus-gateway": 45132, "venus-devnet": 3453, "venus-messager": 39812,
         "venus-miner": 12308}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
            "offset", "inf", "nan", "le"}
# what each required panel is about: a regex over the panel titles
REQUIRED_PANELS = ["Chain head per node", "Message states", "Messages per address", "Blocks won / mined / missed",
                   "lease holder", "Token verifications", "Token verification latency", "Gateway connections",
                   "Sign latency"]

def metric_names(expr):
    """Metric names of a PromQL expression: identifiers that are not functions, keywords,
    label names, label values, durations or Grafana variables."""
    e = re.sub(r'"(\\.|[^"\\])*"', '""', expr)  # strings
    e = re.sub(r"\{[^}]*\}", "", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)  # ranges, subqueries, $__rate_interval
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    e = re.sub(r"\$\w+", "", e)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        rest = e[m.end():].lstrip()
        word = m.group(0)
        if rest.startswith("(") or word.lower() in KEYWORDS:
            continue
        if m.start() > 0 and (e[m.start() - 1].isdigit() or e[m.start() - 1] == "."):
            continue  # 1e3, 0.5
        names.add(word)
    return names


def exported(text):
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}


def promtool():
    for argv in (["promtool", "check", "config", os.path.join(DEPLOY, "prometheus.yml")],
                 ["promtool", "check", "rules", os.path.join(DEPLOY, "alerts.yml")],
                 ["promtool", "test", "rules", "alerts-test.yml"]):
        p = subprocess.run(argv, capture_output=True, text=True, cwd=os.path.dirname(os.path.abspath(__file__)))
        if p.returncode != 0:
            err(" ".join(argv[:3]), (p.stdout + p.stderr).strip())
        else:
            print(f"{' '.join(argv[:3])}: ok")


def scrape_config():
    conf = yaml.safe_load(open(os.path.join(DEPLOY, "prometheus.yml")))
    jobs = {j["job_name"]: j for j in conf.get("scrape_configs") or []}
    for job, port in PORTS.items():
        j = jobs.get(job)
        targets = [t for sc in (j or {}).get("static_configs") or [] for t in sc.get("targets") or []]
        if not j or f"127.0.0.1:{port}" not in targets:
            err("prometheus.yml", f"no job {job} scraping 127.0.0.1:{port}")
        elif j.get("metrics_path", "/metrics") != "/metrics":
            err("prometheus.yml", f"job {job} must scrape /metrics")


def dashboard_exprs():
    dash = json.load(open(os.path.join(DEPLOY, "grafana", "venus-c.json")))
    exprs, ids, titles = [], set(), []
    for p in dash.get("panels") or []:
        if p.get("id") in ids:
            err("venus-c.json", f"panel id {p.get('id')} twice")
        ids.add(p.get("id"))
        if p.get("type") == "row":
            continue
        titles.append(p.get("title", ""))
        targets = p.get("targets") or []
        if not targets or not all(t.get("expr") for t in targets):
            err("venus-c.json", f"panel '{p.get('title')}' has no query or an empty expression")
        exprs += [(f"panel '{p.get('title')}'", t.get("expr", "")) for t in targets]
    for want in REQUIRED_PANELS:
        if not any(re.search(want, t, re.I) for t in titles):
            err("venus-c.json", f"no panel about '{want}'")
    return exprs


def alert_exprs():
    rules = yaml.safe_load(open(os.path.join(DEPLOY, "alerts.yml")))
    return [(f"alert {r['alert']}", r["expr"]) for g in rules["groups"] for r in g["rules"] if "alert" in r]


def main():
    if len(sys.argv) != 2:
        print("usage: check-observability.py BUILD_DIR", file=sys.stderr)
        return 2
    promtool()
    scrape_config()
    exprs = dashboard_exprs() + alert_exprs()
    wanted = {}
    for where, e in exprs:
        for n in metric_names(e):
            wanted.setdefault(n, []).append(where)
    wanted.pop("up", None)
    if len(wanted) < 20:
        err("metric names", f"only {len(wanted)} found in the queries: the extraction is broken")

    s = stack.Stack(sys.argv[1])
    try:
        s.start()
        s.drive()
        texts = s.metrics()
    except stack.StackError as e:
        err("suite", str(e))
        texts = {}
    finally:
        s.stop(keep=bool(errors))
    names = set()
    for daemon, text in texts.items():
        if text is not None:
            names |= exported(text)
    if texts:
        for n, where in sorted(wanted.items()):
            if n not in names:
                err(where[0], f"metric {n} is not exported by any daemon")

    return finish(f"{len(wanted)} metric names in {len(exprs)} queries")


if __name__ == "__main__":
    sys.exit(main())
