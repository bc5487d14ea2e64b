#!/usr/bin/env python3
"""local-suite.py: deploy/local.sh end to end, the way an operator uses it (issue 9 "Tests").

    python3 tests/e2e/local-suite.py BUILD_DIR            # sqlite suite
    python3 tests/e2e/local-suite.py BUILD_DIR --postgres # PostgreSQL, two of each daemon

Runs `deploy/local.sh up` in a temporary run directory on 127.0.0.1 port 0 with the binaries of
BUILD_DIR (no apt, no cmake), then only through the daemons' CLIs:
  sqlite:   pushes messages with `venus-messager send` from the funded owner key, waits until
            `venus-messager msg list --state 3` shows them OnChainMsg, waits for blocks mined by
            venus-miner (the devnet head's Miner is t01000 and the height grows), checks
            `venus-miner address state`, `venus-gateway wallet list`; a second `up` starts
            nothing new.
  postgres: `ha status` on both messager and both miner instances: one leader, one standby,
            each listing two Peers; a message pushed through the standby messager goes on
            chain.
Then `down`, and no process whose pid `up` recorded (PostgreSQL's postmaster included) is left.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LOCAL = os.path.join(TOP, "deploy", "local.sh")


class Fail(Exception):
    pass


class Suite:
    def __init__(self, build, postgres):
        self.build = os.path.abspath(build)
        self.postgres = postgres
        base = os.environ.get("TMPDIR", "/tmp")
        self.dir = tempfile.mkdtemp(prefix="vctest-e2e-local-", dir=base)
        os.chmod(self.dir, 0o755)  # as root, the postgres user must reach <run>/pg
        self.run_dir = os.path.join(self.dir, "run")
        self.env = dict(os.environ, VC_RUN_DIR=self.run_dir, VC_BUILD_DIR=self.build, VC_SKIP_BUILD="1",
                        VC_SKIP_DEPS="1", VC_EPHEMERAL_PORTS="1", VC_BLOCK_TIME="1s")
        self.bin = {"auth": "auth/venus-auth", "gateway": "gateway/venus-gateway", "devnet": "devnet/venus-devnet",
                    "messager": "messager/venus-messager", "miner": "minerd/venus-miner"}
        self.bin = {k: os.path.join(self.build, v) for k, v in self.bin.items()}

    def local(self, *args, timeout=180):
        p = subprocess.run([LOCAL, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise Fail(f"local.sh {' '.join(args)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p.stdout

    def cli(self, daemon, repo, *args, check=True):
        argv = [self.bin[daemon], "--repo", os.path.join(self.run_dir, repo), *args]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise Fail(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()}")
        return p.stdout

    def pids(self):
        out = {}
        for f in glob.glob(os.path.join(self.run_dir, "*.pid")):
            with open(f) as fh:
                out[os.path.basename(f)[:-4]] = int(fh.read().strip())
        return out

    def wait(self, what, fn, timeout):
        end = time.time() + timeout
        last = None
        while time.time() < end:
            try:
                r = fn()
                if r:
                    return r
            except Fail as e:
                last = e
            time.sleep(0.5)
        raise Fail(f"timed out waiting for {what} ({last}); logs in {self.run_dir}")

    # -- checks
    def send(self, repo, to, amount):
        owner = open(os.path.join(self.run_dir, "keys", "owner.addr")).read().strip()
        # method 2 with empty params: `send` refuses method 0 (as the Go messager does), and gas
        # fields given so estimation does not run the call the devnet's account actor rejects;
        # the message still lands on chain (with exit code 22)
        out = self.cli("messager", repo, "send", "--from", owner, "--method", "2", "--params-hex", "",
                       "--gas-limit", "1000000", "--gas-feecap", "100000", "--gas-premium", "1000", to, amount)
        m = re.search(r"msg uuid ([0-9a-f-]{36})", out)
        if not m:
            raise Fail(f"send printed no uuid: {out!r}")
        return m.group(1)

    def on_chain(self, ids):
        def check():
            out = self.cli("messager", "messager", "msg", "list", "--state", "3")
            rows = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
            if all(i in rows for i in ids):
                for i in ids:
                    if "OnChainMsg" not in rows[i]:
                        raise Fail(f"msg list row for {i}: {rows[i]}")
                return True
            return False
        self.wait("messages OnChain in msg list", check, 90)
        for i in ids:
            found = json.loads(self.cli("messager", "messager", "msg", "search", "--id", i).split("\n", 1)[1])
            if found.get("State") not in (3, "OnChainMsg") or not found.get("Height"):
                raise Fail(f"msg search --id {i}: State {found.get('State')} Height {found.get('Height')}")

    def head(self):
        h = json.loads(self.cli("devnet", "devnet", "chain", "head"))
        cid = h["Cids"][0]["/"]
        b = json.loads(self.cli("devnet", "devnet", "chain", "get-block", cid))
        return h.get("Height", b.get("Height")), b.get("Miner")

    def blocks_from_miner(self):
        h0, _ = self.head()

        def grown():
            h, miner = self.head()
            if h >= h0 + 3:
                if miner not in ("t01000", "f01000"):
                    raise Fail(f"head block mined by {miner}, not t01000")
                return True
            return False
        self.wait("three more blocks from venus-miner", grown, 60)

    def check_miner_and_gateway(self, miner_repo="miner", gw_repo="gateway"):
        st = json.loads(self.cli("miner", miner_repo, "address", "state"))
        if not any(s.get("Addr") in ("t01000", "f01000") and s.get("IsMining") for s in st):
            raise Fail(f"address state: {st}")
        owner = open(os.path.join(self.run_dir, "keys", "owner.addr")).read().strip()
        wl = json.loads(self.cli("gateway", gw_repo, "wallet", "list"))
        addrs = [a for w in wl if w.get("Account") == "wallet" for c in w.get("ConnectStates") or [] for a in c["Addrs"]]
        if owner[1:] not in [a[1:] for a in addrs]:
            raise Fail(f"gateway wallet list has no {owner}: {wl}")

    def ha(self, daemon, repos):
        roles = []
        for r in repos:
            st = json.loads(self.cli(daemon, r, "ha", "status"))
            if len(st.get("Peers") or []) != 2:
                raise Fail(f"{daemon} {r} ha status Peers: {st.get('Peers')}")
            roles.append(st["Role"])
        if sorted(roles) != ["leader", "standby"]:
            raise Fail(f"{daemon} roles: {roles}")
        return repos[roles.index("standby")]

    def main(self):
        try:
            out = self.local("up", *(["--postgres"] if self.postgres else []))
            print(out)
            started = self.pids()
            want = {"auth", "gateway", "devnet", "wallet", "messager", "prover", "miner"}
            if self.postgres:
                want |= {"pg", "auth2", "gateway2", "messager2", "miner2"}
            if set(started) != want:
                raise Fail(f"pid files {sorted(started)}, want {sorted(want)}")
            dest = self.cli("devnet", "devnet", "wallet", "new", "--out",
                            os.path.join(self.dir, "dest.key")).splitlines()[0].strip()
            if not self.postgres:
                ids = [self.send("messager", dest, "0.001") for _ in range(3)]
                self.on_chain(ids)
                self.blocks_from_miner()
                self.check_miner_and_gateway()
                again = self.local("up")
                if "started" in again or self.pids() != started:
                    raise Fail(f"second up started something:\n{again}")
            else:
                # the lease is taken within one Retry period of the first instance's start
                self.wait("one messager leader", lambda: self.ha("messager", ["messager", "messager2"]), 30)
                self.wait("one miner leader", lambda: self.ha("miner", ["miner", "miner2"]), 30)
                standby = self.ha("messager", ["messager", "messager2"])
                self.on_chain([self.send(standby, dest, "0.002")])
                self.blocks_from_miner()
                self.check_miner_and_gateway("miner2", "gateway2")
            print(self.local("down"))
            left = [f"{n}={p}" for n, p in started.items() if os.path.exists(f"/proc/{p}")]
            if left:
                raise Fail(f"still running after down: {left}")
            if glob.glob(os.path.join(self.run_dir, "*.pid")):
                raise Fail("pid files left after down")
            print("ok")
            return 0
        except Fail as e:
            print(f"FAIL {e}")
            for f in sorted(glob.glob(os.path.join(self.run_dir, "*.log"))):
                with open(f, errors="replace") as fh:
                    print(f"==> {f}\n" + "".join(fh.readlines()[-15:]))
            return 1
        finally:
            subprocess.run([LOCAL, "down"], env=self.env, capture_output=True, timeout=180)
            if not os.environ.get("VC_TEST_KEEP"):
                shutil.rmtree(self.dir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and sys.argv[2] != "--postgres"):
        print("usage: local-suite.py BUILD_DIR [--postgres]", file=sys.stderr)
        sys.exit(2)
    sys.exit(Suite(sys.argv[1], len(sys.argv) == 3).main())
