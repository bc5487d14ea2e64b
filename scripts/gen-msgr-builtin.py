#!/usr/bin/env python3
"""
gen-msgr-builtin.py: writes messager/msgr-builtin-data.c, venus-messager's table of the builtin
actors (spec/messager.md 7: `actor list-builtin-actors`, `actor add` without --version, and the
JSON params of `send --params-json` / Message.Send).

Facts read from two public repositories (git directories, read with `git show`):
  venus            venus-shared/actors/builtin_actors_gen.go: per network and actors version, the
                   code CID of every builtin actor;
  go-state-types   builtin/v<N>/<actor>/methods.go: per actors version, every actor's method
                   numbers, names and parameter types (FRC-42 numbers computed here), and the
                   Go types behind those parameters, turned into the small schema language that
                   msgr-builtin.c reads:
                     A address  B big int  U unsigned  I signed  T bool  S text  Y bytes  C CID
                     - no params (abi.EmptyValue)   [x] array of x   ?x x or null
                     {Name:x,Other:y} a struct, CBOR tuple in field order (JSON keys = Go names)
                     ! not expressible (bitfields, signatures, maps, custom encodings)

  scripts/gen-msgr-builtin.py VENUS_GIT VENUS_REV GST_GIT GST_REV > messager/msgr-builtin-data.c
"""
import hashlib
import re
import subprocess
import sys

ACTOR_DIRS = {
    "account": "account", "cron": "cron", "datacap": "datacap", "eam": "eam", "ethaccount": "ethaccount",
    "evm": "evm", "init": "init", "market": "storagemarket", "miner": "storageminer", "multisig": "multisig",
    "paych": "paymentchannel", "placeholder": "placeholder", "power": "storagepower", "reward": "reward",
    "system": "system", "verifreg": "verifiedregistry",
}
GST = "github.com/filecoin-project/go-state-types"
PRIMITIVE = {
    "github.com/filecoin-project/go-address.Address": "A",
    "github.com/ipfs/go-cid.Cid": "C",
    GST + "/big.Int": "B",
    GST + "/abi.EmptyValue": "-",
    GST + "/abi.CborBytes": "Y",
    GST + "/abi.CborString": "S",
    "github.com/whyrusleeping/cbor-gen.CborBool": "T",
    "github.com/whyrusleeping/cbor-gen.CborInt": "I",
    "github.com/whyrusleeping/cbor-gen.CborCid": "C",
    "github.com/filecoin-project/go-bitfield.BitField": "!",
    GST + "/crypto.Signature": "!",
}
BASIC = {"uint64": "U", "uint": "U", "uint32": "U", "uint16": "U", "uint8": "U", "int64": "I", "int": "I",
         "int32": "I", "int16": "I", "int8": "I", "bool": "T", "string": "S", "[]byte": "Y"}


def git_show(repo, rev, path):
    r = subprocess.run(["git", "-C", repo, "show", "%s:%s" % (rev, path)], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def git_ls(repo, rev, path):
    r = subprocess.run(["git", "-C", repo, "ls-tree", "--name-only", "%s:%s" % (rev, path)], capture_output=True,
                       text=True)
    return r.stdout.split() if r.returncode == 0 else []


def frc42(name):
    if name == "Constructor":
        return 1
    d = hashlib.blake2b(("1|" + name).encode(), digest_size=64).digest()
    for i in range(0, 64, 4):
        v = int.from_bytes(d[i:i + 4], "big")
        if v >= 1 << 24:
            return v
    raise ValueError(name)


class Pkg:
    """The type declarations of one go-state-types package."""

    def __init__(self, repo, rev, path):
        self.path = path
        self.types = {}    # name -> ("struct", [(field, json, type)], file) | ("named", type, file)
        self.imports = {}  # file -> {alias: import path}
        self.custom = set()  # types with a hand-written MarshalCBOR
        self.tuple_len = {}  # struct -> field count written by cbor_gen.go (None: a map)
        for f in git_ls(repo, rev, path):
            if not f.endswith(".go") or f.endswith("_test.go"):
                continue
            src = git_show(repo, rev, path + "/" + f)
            if src is None:
                continue
            if f == "cbor_gen.go":
                for m in re.finditer(r"var lengthBuf(\w+) = \[\]byte\{(\d+)\}", src):
                    self.tuple_len[m.group(1)] = int(m.group(2)) - 0x80
                for m in re.finditer(r"func \(t \*(\w+)\) MarshalCBOR[\s\S]*?\n}\n", src):
                    if "MajMap" in m.group(0) and m.group(1) not in self.tuple_len:
                        self.tuple_len[m.group(1)] = None
                continue
            self.imports[f] = self.parse_imports(src)
            for m in re.finditer(r"func \(\w+ \*?(\w+)\) MarshalCBOR", src):
                self.custom.add(m.group(1))
            src = re.sub(r"//[^\n]*", "", src)
            for m in re.finditer(r"^type (\w+) struct \{\n([\s\S]*?)^\}", src, re.M):
                fields = []
                for line in m.group(2).split("\n"):
                    line = line.strip()
                    if not line:
                        continue
                    fm = re.match(r"^(\w+)\s+([^`]+?)\s*(`.*`)?$", line)
                    if not fm:
                        fields = None  # embedded field or something unusual
                        break
                    tag = fm.group(3) or ""
                    jm = re.search(r'json:"([^",]*)', tag)
                    jname = jm.group(1) if jm else fm.group(1)
                    transparent = 'cborgen:"transparent"' in tag
                    fields.append((fm.group(1), jname, fm.group(2).strip(), transparent))
                self.types[m.group(1)] = ("struct", fields, f)
            for m in re.finditer(r"^type (\w+) =?\s*([\w.\[\]*]+)\s*$", src, re.M):
                self.types.setdefault(m.group(1), ("named", m.group(2), f))
            for blk in re.finditer(r"^type \(\n([\s\S]*?)^\)", src, re.M):
                for line in blk.group(1).split("\n"):
                    lm = re.match(r"^\s*(\w+)\s+=?\s*([\w.\[\]*]+)\s*$", line)
                    if lm:
                        self.types.setdefault(lm.group(1), ("named", lm.group(2), f))

    @staticmethod
    def parse_imports(src):
        imp = {}
        for m in re.finditer(r'^\s*(\w+\s+)?"([^"]+)"\s*$', src, re.M):
            path = m.group(2)
            alias = m.group(1).strip() if m.group(1) else path.rstrip("/").split("/")[-1]
            if alias.startswith("go-"):
                alias = alias[3:]
            imp[alias] = path
        return imp


class Resolver:
    def __init__(self, repo, rev):
        self.repo, self.rev, self.pkgs = repo, rev, {}

    def pkg(self, path):
        if path not in self.pkgs:
            self.pkgs[path] = Pkg(self.repo, self.rev, path)
        return self.pkgs[path]

    def schema(self, pkgpath, typ, file, depth=0):
        """Schema of Go type text `typ` as written in `file` of package `pkgpath`."""
        if depth > 12:
            return "!"
        if typ.startswith("*"):
            inner = self.schema(pkgpath, typ[1:], file, depth + 1)
            return inner if inner in ("!", "-") else "?" + inner
        if typ in BASIC:
            return BASIC[typ]
        if typ.startswith("[]"):
            inner = self.schema(pkgpath, typ[2:], file, depth + 1)
            return "!" if "!" in inner or inner == "-" else "[" + inner + "]"
        if typ.startswith("map[") or typ.startswith("["):
            return "!"
        if "." in typ:
            alias, name = typ.split(".", 1)
            imp = self.pkg(pkgpath).imports.get(file, {})
            full = imp.get(alias)
            if full is None:
                return "!"
        else:
            name, full = typ, None
        if full is None or full.startswith(GST):
            path = pkgpath if full is None else full[len(GST) + 1:] if full != GST else ""
            key = (GST + "/" + path if path else GST) + "." + name
            if key in PRIMITIVE:
                return PRIMITIVE[key]
            return self.named(path, name, depth)
        return PRIMITIVE.get(full + "." + name, "!")

    def named(self, path, name, depth):
        p = self.pkg(path)
        t = p.types.get(name)
        if t is None or name in p.custom and name not in p.tuple_len:
            return "!"
        if t[0] == "named":
            return self.schema(path, t[1], t[2], depth + 1)
        fields = t[1]
        if fields is None:
            return "!"
        if len(fields) == 1 and fields[0][3]:  # cborgen:"transparent"
            return self.schema(path, fields[0][2], t[2], depth + 1)
        if p.tuple_len.get(name, -1) != len(fields):
            return "!"  # a map encoding, or fields we did not read right
        parts = []
        for fname, jname, ftyp, _ in fields:
            s = self.schema(path, ftyp, t[2], depth + 1)
            if "!" in s or s == "-":
                return "!"
            parts.append("%s:%s" % (jname if jname else fname, s))
        return "{" + ",".join(parts) + "}"


def parse_bundles(src):
    out = []
    for blk in re.finditer(r'Network: "([\w-]+)",\s*Version: (\d+),[\s\S]*?Actors: map\[string\]cid\.Cid\{([\s\S]*?)\}',
                           src):
        for m in re.finditer(r'"(\w+)":\s*mustParseCid\("(\w+)"\)', blk.group(3)):
            out.append((blk.group(1), int(blk.group(2)), m.group(1), m.group(2)))
    return out


# builtin.Method<Name> constants (builtin/methods.go) are the FRC-42 numbers of <Name>
METHOD_RE = re.compile(r'^\s*(\d+|builtin\.MustGenerateFRCMethodNum\("(\w+)"\)|builtin\.Method(\w+))\s*:\s*builtin\.NewMethodMeta\('
                       r'"(\w+)",\s*\*new\(func\((?:\w+\s+)?([\w.*\[\]]+)\)')


def main():
    venus, venus_rev, gst, gst_rev = sys.argv[1:5]
    bundles = parse_bundles(git_show(venus, venus_rev, "venus-shared/actors/builtin_actors_gen.go"))
    versions = sorted({v for _, v, _, _ in bundles})
    res = Resolver(gst, gst_rev)
    schemas, methods = ["-"], []
    for v in versions:
        for d in git_ls(gst, gst_rev, "builtin/v%d" % v):
            if d not in ACTOR_DIRS:
                continue
            path = "builtin/v%d/%s" % (v, d)
            src = git_show(gst, gst_rev, path + "/methods.go")
            if src is None:
                continue
            for line in src.split("\n"):
                m = METHOD_RE.match(line)
                if not m:
                    if re.search(r'NewMethodMeta\("\w+", nil\)', line):
                        continue  # deprecated, no export (venus skips it too)
                    if "NewMethodMeta" in line:
                        sys.exit("unparsed method line in %s: %s" % (path, line))
                    continue
                if m.group(2):
                    num = frc42(m.group(2))
                elif m.group(3):
                    num = {"Send": 0, "Constructor": 1}.get(m.group(3)) or frc42(m.group(3))
                else:
                    num = int(m.group(1))
                s = res.schema(path, m.group(5), "methods.go")
                if s.startswith("?"):
                    s = s[1:]  # the params are decoded into the pointed-to value (null leaves it zero)
                if s not in schemas:
                    schemas.append(s)
                methods.append((v, ACTOR_DIRS[d], num, m.group(4), schemas.index(s)))
    # one row per (actor, number, name, params) with the range of versions that have it
    ranges = {}
    for v, actor, num, name, si in sorted(methods):
        key = (actor, num, name, si)
        r = ranges.get(key)
        if r and r[-1][1] == versions[versions.index(v) - 1]:
            r[-1][1] = v
        else:
            ranges.setdefault(key, []).append([v, v])
    rows = sorted((actor, num, lo, hi, name, si) for (actor, num, name, si), rs in ranges.items() for lo, hi in rs)
    out = sys.stdout
    out.write("/* msgr-builtin-data.c: GENERATED by scripts/gen-msgr-builtin.py from venus %s\n"
              " * (venus-shared/actors/builtin_actors_gen.go) and go-state-types %s (builtin/v<N>/): do not edit. */\n"
              % (venus_rev[:12], gst_rev[:12]))
    out.write('#include "msgr-builtin.h"\n\n')
    out.write("const msgr_builtin_code_t msgr_builtin_codes[] = {\n")
    for net, v, name, cid in sorted(bundles):
        out.write('    {"%s", %d, "%s", "%s"},\n' % (net, v, name, cid))
    out.write("};\nconst size_t msgr_builtin_n_codes = sizeof(msgr_builtin_codes) / sizeof(msgr_builtin_codes[0]);\n\n")
    out.write("const char *const msgr_builtin_schemas[] = {\n")
    for s in schemas:
        out.write('    "%s",\n' % s)
    out.write("};\nconst size_t msgr_builtin_n_schemas = sizeof(msgr_builtin_schemas) / "
              "sizeof(msgr_builtin_schemas[0]);\n\n")
    out.write("/* actor, number, first and last actors version, name, params schema; by actor and number */\n"
              "const msgr_builtin_method_t msgr_builtin_methods[] = {\n")
    for actor, num, lo, hi, name, si in rows:
        out.write('    {"%s", %dULL, %d, %d, "%s", %d},\n' % (actor, num, lo, hi, name, si))
    out.write("};\nconst size_t msgr_builtin_n_methods = sizeof(msgr_builtin_methods) / "
              "sizeof(msgr_builtin_methods[0]);\n")
    unsupported = sum(1 for m in methods if schemas[m[4]] == "!")
    sys.stderr.write("%d code CIDs, %d methods in %d rows (%d without a JSON schema), %d schemas\n"
                     % (len(bundles), len(methods), len(rows), unsupported, len(schemas)))


if __name__ == "__main__":
    main()
