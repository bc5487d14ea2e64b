#!/usr/bin/env python3
"""stack.py: the whole venus-c suite from a build directory, on 127.0.0.1 port 0, in a temp dir.

Starts, in the documented order, venus-auth, venus-gateway, venus-devnet (external mining,
1 s blocks), venus-wallet (holding the devnet's funded key, registered with the gateway as
user "wallet"), venus-messager, a mock prover for t01000 and venus-miner, the way
deploy/local.sh does. Then it can push a message and wait until venus-miner has put blocks on
chain, so every labelled metric family has at least one child.

    python3 tests/deploy/stack.py BUILD_DIR            # start, drive, print each /metrics, stop

As a module: Stack(build).start(); .drive(); .metrics() -> {daemon: text}; .stop().
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

BINS = {
    "auth": "auth/venus-auth",
    "gateway": "gateway/venus-gateway",
    "devnet": "devnet/venus-devnet",
    "wallet": "wallet/venus-wallet",
    "messager": "messager/venus-messager",
    "miner": "minerd/venus-miner",
}


class StackError(Exception):
    pass


class Stack:
    def __init__(self, build):
        self.build = os.path.abspath(build)
        self.bin = {k: os.path.join(self.build, v) for k, v in BINS.items()}
        for k, p in self.bin.items():
            if not os.access(p, os.X_OK):
                raise StackError(f"{p} is missing: build the tree first")
        base = os.environ.get("TMPDIR", "/tmp")
        self.dir = tempfile.mkdtemp(prefix="vctest-deploy-", dir=base)
        self.procs = {}  # name -> Popen, in start order
        self.api = {}  # daemon -> host:port

    # -- helpers
    def repo(self, name):
        return os.path.join(self.dir, name)

    def run(self, argv, check=True):
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise StackError(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()}")
        return p.stdout

    def spawn(self, name, argv, env=None):
        log = open(os.path.join(self.dir, name + ".log"), "ab")
        e = dict(os.environ)
        e.update(env or {})
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=e,
                                            start_new_session=True)
        log.close()

    def wait_api(self, name, repo, timeout=30):
        path = os.path.join(repo, "api")
        end = time.time() + timeout
        while time.time() < end:
            if self.procs[name].poll() is not None:
                raise StackError(f"{name} exited ({self.procs[name].returncode}), see {self.dir}/{name}.log")
            if os.path.exists(path) and os.path.getsize(path) > 0:
                with open(path) as f:
                    self.api[name] = f.read().strip()
                return self.api[name]
            time.sleep(0.1)
        raise StackError(f"{name} did not write {path}")

    def read(self, *parts):
        with open(os.path.join(self.dir, *parts)) as f:
            return f.read().strip()

    def write(self, rel, text, mode=0o600):
        path = os.path.join(self.dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    # -- the suite, in the documented order
    def start(self):
        va = [self.bin["auth"], "--repo", self.repo("auth")]
        self.spawn("auth", va + ["--listen", "127.0.0.1:0", "run"])
        auth = "http://" + self.wait_api("auth", self.repo("auth"))
        admin = self.read("auth", "token")

        self.write("gateway/config.toml", '[API]\n  ListenAddress = "127.0.0.1:0"\n')
        self.spawn("gateway", [self.bin["gateway"], "--repo", self.repo("gateway"), "run",
                               "--auth-url", auth, "--auth-token", admin])
        gw = self.wait_api("gateway", self.repo("gateway"))

        dn = self.bin["devnet"]
        key = os.path.join(self.dir, "owner.key")
        owner = self.run([dn, "wallet", "new", "--out", key]).splitlines()[0].strip()
        genesis = self.write("genesis.toml", f'''NetworkName = "devnet"
BlockTime = "1s"
PropagationDelay = "200ms"
[[Accounts]]
KeyFile = "{key}"
Balance = "1000000000000000000000000"
[[Miners]]
ID = 1000
Owner = "{owner}"
Worker = "{owner}"
Power = "10995116277760"
Sectors = 2
SectorSize = 2048
''', 0o644)
        self.owner = owner
        self.run([dn, "--repo", self.repo("devnet"), "init", "--genesis", genesis])
        self.spawn("devnet", [dn, "--repo", self.repo("devnet"), "run", "--listen", "127.0.0.1:0",
                              "--mine", "external", "--auth-url", auth, "--auth-token", admin])
        node = self.wait_api("devnet", self.repo("devnet"))
        node_token = self.read("devnet", "token")

        self.run(va + ["user", "add", "wallet"])
        out = self.run(va + ["token", "gen", "--perm", "sign", "wallet"])
        wtok = out.strip().split()[-1]
        self.wallet_token, self.admin = wtok, admin
        pw = self.write("wallet.password", "deploy-test-passphrase")
        self.spawn("wallet", [self.bin["wallet"], "--repo", self.repo("wallet"), "--password-file", pw, "run",
                              "--listen", "127.0.0.1:0", "--gateway-api", gw, "--gateway-token", wtok,
                              "--support-accounts", "wallet"])
        self.wait_api("wallet", self.repo("wallet"))
        self.run([self.bin["wallet"], "--repo", self.repo("wallet"), "import", key])

        self.write("messager/config.toml",
                   '[messageService]\n  WaitingChainHeadStableDuration = "100ms"\n')
        self.spawn("messager", [self.bin["messager"], "--repo", self.repo("messager"), "run",
                                "--listen", "127.0.0.1:0", "--node-url", node, "--node-token", node_token,
                                "--gateway-url", gw, "--gateway-token", admin, "--auth-url", auth,
                                "--auth-token", admin])
        self.wait_api("messager", self.repo("messager"))
        self.messager_token = self.read("messager", "token")

        self.run(va + ["user", "miner", "add", "wallet", "t01000"])
        self.spawn("prover", [dn, "prover", "--gateway", gw, "--token", wtok, "--miner", "t01000"])

        vm = [self.bin["miner"], "--repo", self.repo("miner")]
        self.run(vm + ["init", "--api", node, "--token", admin, "--auth-api", auth, "--gateway-api", gw,
                       "--slash-filter", "local", "--listen", "127.0.0.1:0"])
        self.spawn("miner", vm + ["run", "--nosync"], env={"INSECURE_POST_VALIDATION": "1"})
        self.wait_api("miner", self.repo("miner"))
        return self

    def scrape(self, name, path="/metrics"):
        with urllib.request.urlopen(f"http://{self.api[name]}{path}", timeout=10) as r:
            return r.read().decode()

    def rpc(self, name, method, params, token, path="/rpc/v0"):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        req = urllib.request.Request(f"http://{self.api[name]}{path}", data=body,
                                     headers={"Content-Type": "application/json",
                                              "Authorization": "Bearer " + token})
        with urllib.request.urlopen(req, timeout=30) as r:
            ans = json.loads(r.read().decode())
        if ans.get("error"):
            raise StackError(f"{method}: {ans['error'].get('message')}")
        return ans.get("result")

    def drive(self, timeout=90):
        """Pushes a transfer through venus-messager (Message.PushMessage as user "wallet") and
        waits until it is on chain and venus-miner has mined blocks, so the labelled metric
        families of every daemon have children."""
        dest = self.run([self.bin["devnet"], "wallet", "new", "--out",
                         os.path.join(self.dir, "dest.key")]).splitlines()[0].strip()
        msg = {"Version": 0, "To": dest, "From": self.owner, "Nonce": 0, "Value": "1000", "GasLimit": 0,
               "GasFeeCap": "0", "GasPremium": "0", "Method": 0, "Params": None}
        uid = None
        end = time.time() + timeout
        last = ""
        while time.time() < end:
            try:
                if uid is None:
                    uid = self.rpc("messager", "Message.PushMessage", [msg, None], self.wallet_token)
                m = self.rpc("messager", "Message.GetMessageByUid", [uid], self.admin)
                if m and m.get("State") == 3 and "venus_miner_number_of_block{" in self.scrape("miner"):
                    return
                last = f"message state {m.get('State') if m else None}"
            except (StackError, OSError) as e:
                last = str(e)
            time.sleep(0.5)
        raise StackError(f"no message on chain / no block from venus-miner in {timeout}s ({last}), "
                         f"logs in {self.dir}")

    def metrics(self):
        out = {}
        for name in ("auth", "gateway", "devnet", "messager", "miner", "wallet"):
            try:
                out[name] = self.scrape(name)
            except Exception as e:  # the wallet has no /metrics: report what answered
                out[name] = None
                if name != "wallet":
                    raise StackError(f"{name} /metrics: {e}")
        return out

    def stop(self, keep=False):
        for name in reversed(list(self.procs)):
            p = self.procs[name]
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if not keep and not os.environ.get("VC_TEST_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


def main():
    if len(sys.argv) != 2:
        print("usage: stack.py BUILD_DIR", file=sys.stderr)
        return 2
    s = Stack(sys.argv[1])
    try:
        s.start()
        s.drive()
        for name, text in s.metrics().items():
            print(f"### {name}")
            print(text if text is not None else "(no /metrics)")
    finally:
        s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
