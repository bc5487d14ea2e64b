#!/usr/bin/env python3
"""check-systemd.py BUILD_DIR: checks deploy/systemd.

- `systemd-analyze verify` of every unit passes with no output at all (warnings fail too). It
  runs offline (no systemd as PID 1 needed): the units are copied to a temp dir with
  /usr/local/bin/ rewritten to a temp bin/ of links to BUILD_DIR's binaries, so the ExecStart
  paths exist.
- every unit: User=venus, Restart=on-failure, StateDirectory=venus/<daemon> and the same path
  in ReadWritePaths, ConfigurationDirectory=venus, the hardening set (NoNewPrivileges=yes,
  ProtectSystem=strict, ProtectHome=yes, PrivateTmp=yes, ...), WantedBy=multi-user.target.
- After= encodes the documented order auth -> gateway -> node -> messager -> miner (wallet
  after gateway), and Wants= pulls in auth (and gateway) where the daemon needs them.
- every flag in ExecStart is one the binary's `--help` / `run --help` lists, global flags
  before `run`, run flags after it.
- install.sh: `sh -n`; --help exits 0; as a non-root user it exits 1 with one clear line.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

from deploylib import BINS, TOP, check_flags, err, finish

UNITS = os.path.join(TOP, "deploy", "systemd")
# unit -> units it must be ordered after
AFTER = {
    "auth": [],
    "gateway": ["auth"],
    "devnet": ["auth", "gateway"],
    "wallet": ["gateway"],
    "messager": ["auth", "gateway", "devnet"],
    "miner": ["auth", "gateway", "devnet", "messager"],
}
WANTS = {"gateway": ["auth"], "wallet": ["gateway"], "messager": ["auth", "gateway"], "miner": ["auth", "gateway"]}
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
             "PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectControlGroups": "yes",
             "RestrictSUIDSGID": "yes", "CapabilityBoundingSet": ""}

def parse(path):
    """{key: [values]} over all sections (keys are unique across our sections)."""
    kv = {}
    for line in open(path):
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        k, _, v = line.partition("=")
        kv.setdefault(k.strip(), []).append(v.strip())
    return kv


def verify(build):
    tmp = tempfile.mkdtemp(prefix="vctest-deploy-systemd-")
    try:
        os.mkdir(os.path.join(tmp, "bin"))
        os.mkdir(os.path.join(tmp, "units"))
        for d, rel in BINS.items():
            os.symlink(os.path.join(build, rel), os.path.join(tmp, "bin", "venus-" + d))
        paths = []
        for u in sorted(glob.glob(os.path.join(UNITS, "*.service"))):
            text = open(u).read().replace("/usr/local/bin/", os.path.join(tmp, "bin") + "/")
            dst = os.path.join(tmp, "units", os.path.basename(u))
            open(dst, "w").write(text)
            paths.append(dst)
        p = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True, text=True)
        out = (p.stdout + p.stderr).replace(tmp + "/units/", "").strip()
        if p.returncode != 0 or out:
            err("systemd-analyze verify", f"exit {p.returncode}:\n{out}")
        else:
            print(f"systemd-analyze verify: {len(paths)} units, no findings")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_unit(d, build):
    path = os.path.join(UNITS, f"venus-{d}.service")
    if not os.path.exists(path):
        err("deploy/systemd", f"venus-{d}.service is missing")
        return
    kv = parse(path)
    where = f"venus-{d}.service"

    def one(key):
        return kv.get(key, [None])[-1]

    for k, v in {"User": "venus", "Group": "venus", "Restart": "on-failure", "Type": "simple",
                 "StateDirectory": f"venus/{d}", "ConfigurationDirectory": "venus",
                 "WantedBy": "multi-user.target", **HARDENING}.items():
        if one(k) != v:
            err(where, f"{k}= must be '{v}', is '{one(k)}'")
    if f"/var/lib/venus/{d}" not in " ".join(kv.get("ReadWritePaths", [])).split():
        err(where, f"ReadWritePaths= must name /var/lib/venus/{d}")
    after = " ".join(kv.get("After", [])).split()
    wants = " ".join(kv.get("Wants", [])).split()
    for dep in AFTER[d]:
        if f"venus-{dep}.service" not in after:
            err(where, f"After= lacks venus-{dep}.service (order auth -> gateway -> node -> messager -> miner)")
    for dep in WANTS.get(d, []):
        if f"venus-{dep}.service" not in wants:
            err(where, f"Wants= lacks venus-{dep}.service")
    for other, deps in AFTER.items():  # no unit may be ordered after one that comes later
        if d in deps and f"venus-{other}.service" in after:
            err(where, f"After= venus-{other}.service contradicts the documented order")
    exec_start = one("ExecStart") or ""
    words = exec_start.split()
    if not words or words[0] != f"/usr/local/bin/venus-{d}":
        err(where, f"ExecStart must run /usr/local/bin/venus-{d}")
        return
    check_flags(where + " ExecStart", os.path.join(build, BINS[d]), f"venus-{d}", words[1:])
    i = words.index("run") if "run" in words else len(words)
    if "--repo" not in words[1:i] or words[words.index("--repo") + 1] != f"/var/lib/venus/{d}":
        err(where, f"ExecStart must pass --repo /var/lib/venus/{d}")


def check_install():
    script = os.path.join(UNITS, "install.sh")
    if subprocess.run(["sh", "-n", script]).returncode != 0:
        err("install.sh", "sh -n: syntax error")
    p = subprocess.run(["sh", script, "--help"], capture_output=True, text=True)
    if p.returncode != 0 or "usage: install.sh" not in p.stdout:
        err("install.sh", f"--help: exit {p.returncode}, no usage line")
    p = subprocess.run(["sh", script, "--bogus"], capture_output=True, text=True)
    if p.returncode != 2 or "unknown argument" not in p.stderr:
        err("install.sh", f"an unknown argument: exit {p.returncode}: {p.stderr.strip()}")
    # as nobody, from a world-readable copy (the checkout may sit under a 0700 home)
    tmp = tempfile.mkdtemp(prefix="vctest-deploy-install-")
    try:
        copy = os.path.join(tmp, "install.sh")
        shutil.copy(script, copy)
        os.chmod(tmp, 0o755)
        os.chmod(copy, 0o755)
        if os.geteuid() == 0:
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", copy]
        else:
            argv = ["sh", copy]
        p = subprocess.run(argv, capture_output=True, text=True, cwd=tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = p.stderr.strip().splitlines()
    if p.returncode != 1 or len(lines) != 1 or "must run as root" not in lines[0]:
        err("install.sh", f"as non-root: exit {p.returncode}, stderr {p.stderr.strip()!r}")


def main():
    if len(sys.argv) != 2:
        print("usage: check-systemd.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    verify(build)
    for d in BINS:
        check_unit(d, build)
    check_install()
    return finish(f"{len(BINS)} units")


if __name__ == "__main__":
    sys.exit(main())
