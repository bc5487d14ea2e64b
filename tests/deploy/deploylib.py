"""deploylib.py: what the tests/deploy checks share: paths, the daemons' binaries in a build
directory, the flags a binary's --help lists, and the list of problems found."""
import os
import re
import subprocess

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# daemon -> binary path inside a build directory
BINS = {"auth": "auth/venus-auth", "gateway": "gateway/venus-gateway", "devnet": "devnet/venus-devnet",
        "wallet": "wallet/venus-wallet", "messager": "messager/venus-messager", "miner": "minerd/venus-miner"}

errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def finish(summary):
    """Prints every problem and the summary line; the exit code."""
    for e in errors:
        print("FAIL " + e.replace(TOP + "/", ""))
    print(f"{summary}, {len(errors)} problems")
    return 1 if errors else 0


def help_flags(binary, *sub):
    """Flags `binary [sub...] --help` lists."""
    out = subprocess.run([binary, *sub, "--help"], capture_output=True, text=True).stdout
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", out))


def check_flags(where, binary, name, args):
    """args (the words after the binary): global flags before `run`, run flags after it."""
    if "run" not in args:
        err(where, "must run the `run` command")
        return
    top, run = help_flags(binary), help_flags(binary, "run")
    i = args.index("run")
    for a in args[:i]:
        if a.startswith("--") and a not in top:
            err(where, f"global flag {a} is not in {name} --help")
    for a in args[i + 1:]:
        if a.startswith("--") and a not in run:
            err(where, f"flag {a} is not in {name} run --help")
