#!/usr/bin/env python3
"""lint-dockerfiles.py BUILD_DIR: lints deploy/docker/*.Dockerfile (no Docker engine here; no
Dockerfile linter is packaged in Debian).

Per file: every instruction is a known one, continuation lines are closed; exactly two stages,
`debian:bookworm AS build` then `debian:bookworm-slim` (tags pinned, never latest); the build
stage runs deploy/docker/build.sh for this daemon; every apt-get install has -y and
--no-install-recommends, runs after apt-get update in the same RUN and ends by removing
/var/lib/apt/lists; the runtime stage installs no -dev package but every Debian package that
provides a shared library the built binary (BUILD_DIR) needs (ELF NEEDED -> dpkg -S), plus curl
for the HEALTHCHECK; COPY --from names the build stage; a non-root USER comes before
ENTRYPOINT/CMD; EXPOSE is the daemon's default port; HEALTHCHECK curls /healthcheck on it;
ENTRYPOINT and CMD are exec-form JSON arrays, ENTRYPOINT runs the daemon with --repo under the
VOLUME; CMD's listen address is 0.0.0.0 on the same port; CMD's flags appear in the binary's
--help. Also: build.sh names every -dev package scripts/deps.sh installs for the libraries.
"""
import glob
import json
import os
import re
import shlex
import subprocess
import sys

from deploylib import TOP, check_flags, err, finish

DAEMONS = {  # name: (default port, binary path in the build dir)
    "venus-auth": (8989, "auth/venus-auth"),
    "venus-gateway": (45132, "gateway/venus-gateway"),
    "venus-devnet": (3453, "devnet/venus-devnet"),
    "venus-wallet": (5678, "wallet/venus-wallet"),
    "venus-messager": (39812, "messager/venus-messager"),
    "venus-miner": (12308, "minerd/venus-miner"),
}
KNOWN = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER",
         "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}

def instructions(path):
    """[(line number, INSTRUCTION, rest)] with continuations joined and comments dropped."""
    out, buf, start = [], "", 0
    with open(path) as f:
        for n, line in enumerate(f, 1):
            s = line.rstrip("\n")
            if not buf and (not s.strip() or s.lstrip().startswith("#")):
                continue
            if not buf:
                start = n
            if s.endswith("\\"):
                buf += s[:-1] + " "
                continue
            buf += s
            word, _, rest = buf.strip().partition(" ")
            out.append((start, word.upper(), rest.strip()))
            buf = ""
    if buf:
        err(path, f"line {start}: continuation never closed")
    return out


def needed_packages(binary):
    """Debian packages providing the DT_NEEDED libraries of binary (libc6 is in every base)."""
    dyn = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    libs = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, re.M))
    pkgs = set()
    for lib in libs:
        p = paths.get(lib)
        if not p:
            err(binary, f"ldd does not resolve {lib}")
            continue
        q = subprocess.run(["dpkg", "-S", os.path.realpath(p)], capture_output=True, text=True)
        if q.returncode != 0:
            q = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if q.returncode != 0:
            err(binary, f"no Debian package owns {p}")
            continue
        pkgs.add(q.stdout.split(":")[0])
    # libc6 is in every base image; sanitizer runtimes only appear in ASan/UBSan test builds
    return {p for p in pkgs if p not in ("libc6", "libgcc-s1") and not re.match(r"lib(a|ub|t|l|hwa)san\d", p)}


def apt_packages(run):
    """Packages named by `apt-get install` in one RUN (shell words that are not options)."""
    pkgs = []
    for cmd in re.split(r"&&|;", run):
        words = shlex.split(cmd)
        if len(words) >= 2 and words[0] == "apt-get" and "install" in words:
            pkgs += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return pkgs


def check_apt(where, run):
    if "apt-get install" not in run:
        return
    if "apt-get update" not in run or run.index("apt-get update") > run.index("apt-get install"):
        err(where, "apt-get install without apt-get update before it in the same RUN")
    for cmd in re.split(r"&&|;", run):
        if "apt-get install" in cmd and ("-y" not in cmd.split() or "--no-install-recommends" not in cmd):
            err(where, "apt-get install needs -y and --no-install-recommends")
    if "rm -rf /var/lib/apt/lists/*" not in run:
        err(where, "the RUN that installs packages must remove /var/lib/apt/lists/*")


def lint(path, build):
    name = os.path.basename(path)[: -len(".Dockerfile")]
    if name not in DAEMONS:
        err(path, f"not a daemon of venus-c: {name}")
        return
    port, rel = DAEMONS[name]
    binary = os.path.join(build, rel)
    ins = instructions(path)
    for n, word, rest in ins:
        if word not in KNOWN:
            err(f"{path}:{n}", f"unknown instruction {word}")
        if word == "ADD":
            err(f"{path}:{n}", "use COPY, not ADD")
        if word == "RUN" and re.search(r"\bsudo\b", rest):
            err(f"{path}:{n}", "sudo in RUN")
    froms = [(i, rest) for i, (n, w, rest) in enumerate(ins) if w == "FROM"]
    if len(froms) != 2:
        err(path, f"expected 2 stages (build, runtime), found {len(froms)}")
        return
    if not re.fullmatch(r"debian:bookworm\s+AS\s+build", froms[0][1], re.I):
        err(path, f"build stage must be 'FROM debian:bookworm AS build', not '{froms[0][1]}'")
    if froms[1][1].split()[0] != "debian:bookworm-slim":
        err(path, f"runtime stage must be FROM debian:bookworm-slim, not '{froms[1][1]}'")
    build_stage, runtime = ins[froms[0][0] + 1: froms[1][0]], ins[froms[1][0] + 1:]

    build_runs = [rest for _, w, rest in build_stage if w == "RUN"]
    if not any(re.search(rf"deploy/docker/build\.sh\s+{name}\b", r) for r in build_runs):
        err(path, f"the build stage must RUN deploy/docker/build.sh {name}")

    pkgs = []
    for n, w, rest in runtime:
        if w == "RUN":
            check_apt(f"{path}:{n}", rest)
            pkgs += apt_packages(rest)
    for p in pkgs:
        if p.endswith("-dev"):
            err(path, f"runtime stage installs a -dev package: {p}")
    if "curl" not in pkgs:
        err(path, "runtime stage must install curl (HEALTHCHECK)")
    if os.access(binary, os.X_OK):
        for p in sorted(needed_packages(binary) - set(pkgs)):
            err(path, f"runtime stage lacks {p}, which {rel} needs")
    else:
        err(path, f"{binary} is not built")

    def last(word):
        found = [(i, rest) for i, (_, w, rest) in enumerate(runtime) if w == word]
        return found[-1] if found else (None, None)

    copies = [rest for _, w, rest in runtime if w == "COPY"]
    if not any(re.match(rf"--from=build\s+/out/{name}\s+/usr/local/bin/{name}$", c) for c in copies):
        err(path, f"runtime stage must COPY --from=build /out/{name} /usr/local/bin/{name}")
    ui, user = last("USER")
    ei, entry = last("ENTRYPOINT")
    ci, cmd = last("CMD")
    if not user or user.split(":")[0] in ("root", "0"):
        err(path, "runtime stage must switch to a non-root USER")
    elif ei is not None and ui > ei:
        err(path, "USER must come before ENTRYPOINT")
    _, expose = last("EXPOSE")
    if (expose or "").split() != [str(port)]:
        err(path, f"EXPOSE must be the default port {port}, not {expose}")
    _, hc = last("HEALTHCHECK")
    if not hc or not re.search(rf"CMD curl -fsS http://127\.0\.0\.1:{port}/healthcheck\b", hc):
        err(path, f"HEALTHCHECK must curl -fsS http://127.0.0.1:{port}/healthcheck")
    _, vol = last("VOLUME")
    try:
        entry_v, cmd_v = json.loads(entry or ""), json.loads(cmd or "")
        vol_v = json.loads(vol or "")
    except ValueError:
        err(path, "ENTRYPOINT, CMD and VOLUME must be exec-form JSON arrays")
        return
    if entry_v[:1] != [f"/usr/local/bin/{name}"] or "--repo" not in entry_v:
        err(path, f"ENTRYPOINT must run /usr/local/bin/{name} --repo <dir>")
    else:
        repo = entry_v[entry_v.index("--repo") + 1]
        if not any(repo.startswith(v.rstrip("/") + "/") for v in vol_v):
            err(path, f"the repo {repo} is not under a VOLUME")
    listen = cmd_v[cmd_v.index("--listen") + 1] if "--listen" in cmd_v else ""
    if not re.search(rf"(0\.0\.0\.0:{port}$|/ip4/0\.0\.0\.0/tcp/{port}(/http)?$)", listen):
        err(path, f"CMD must listen on 0.0.0.0 port {port}, not '{listen}'")
    if os.access(binary, os.X_OK):
        check_flags(f"{path} CMD", binary, name, entry_v[1:] + cmd_v)


def check_build_sh():
    text = open(os.path.join(TOP, "deploy/docker/build.sh")).read()
    deps = open(os.path.join(TOP, "scripts/deps.sh")).read()
    for dev in sorted(set(re.findall(r"\blib[a-z0-9.+-]*-dev\b", deps)) - {"libclang-rt-14-dev"}):
        if dev not in text:
            err("deploy/docker/build.sh", f"does not install {dev} (scripts/deps.sh does)")


def main():
    if len(sys.argv) != 2:
        print("usage: lint-dockerfiles.py BUILD_DIR", file=sys.stderr)
        return 2
    files = sorted(glob.glob(os.path.join(TOP, "deploy/docker/*.Dockerfile")))
    names = {os.path.basename(f)[: -len(".Dockerfile")] for f in files}
    for missing in sorted(set(DAEMONS) - names):
        err("deploy/docker", f"no {missing}.Dockerfile")
    for f in files:
        lint(f, os.path.abspath(sys.argv[1]))
    check_build_sh()
    return finish(f"{len(files)} Dockerfiles")


if __name__ == "__main__":
    sys.exit(main())
