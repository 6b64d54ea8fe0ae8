"""`info` and read_snapshot on bad files: every header field checked for type and range, the
sections against the file's real size before they are read, only regular files opened, one
line on stderr and exit 2 for every bad file (never a traceback or a hang), and the strings of
a header escaped for the terminal. The files are mutations of snapshots captured by a child
process, re-framed with a correct CRC and trailer so that the mutations reach the checks."""

import contextlib
import copy
import io
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

import leakbook

AGENT_DIR = os.path.dirname(os.path.abspath(leakbook.__file__))
TIMEOUT = 120  # seconds: only there to turn a hang into a failure

# Clear screen, an OSC window title ended by BEL, a right-to-left override, a left-to-right
# isolate and its end, a newline, a C1 control (CSI) and DEL.
HOSTILE = "\x1b[2J\x1b]0;owned\x07\u202eevil\u2066x\u2069\nnext\x9b\x7f"
ESCAPED = "\\x1b[2J\\x1b]0;owned\\x07\\u202eevil\\u2066x\\u2069\\nnext\\x9b\\x7f"

CAPTURE = r"""
import functools, sys, threading
import leakbook
out, hostile = sys.argv[1], %r
Evil = type("Evil", (bytes,), {})
Evil.__qualname__ = "Evil" + hostile
Evil.__module__ = "mod" + hostile
evil = [Evil(b"x" * 2000000) for _ in range(5)]  # the biggest type: listed by info
def cached(x):
    return x
cached.__qualname__ = "cached" + hostile
cached = functools.lru_cache(maxsize=8)(cached)
cached(1)
stop = threading.Event()
worker = threading.Thread(target=stop.wait, name="thread" + hostile, daemon=True)
worker.start()
leakbook.snapshot(out + "/plain.lbsnap", values="none")
leakbook.snapshot(out + "/census.lbsnap", census=True)
leakbook.snapshot(out + "/hostile.lbsnap")
stop.set()
""" % HOSTILE

DELETE = object()
PLACEHOLDER = "@@raw@@"
SLACK = 8192  # room for a header to grow with the sections staying where they are
ITEM = {"f64": "<d", "u32": "<I", "u8": "<B"}


def frame(text, body):
    """A snapshot file: the header text, padding, the body (everything from the first section
    to the trailer) and a trailer with the right CRC and total."""
    head = leakbook.MAGIC + struct.pack("<II", leakbook.FORMAT_VERSION, len(text)) + text
    data = head + b"\0" * (-len(head) % 8) + body
    crc = zlib.crc32(data) & 0xFFFFFFFF
    return data + leakbook.TRAILER_MAGIC + struct.pack("<IIQ", crc, 0, len(data) + leakbook.TRAILER_SIZE)


def split(data):
    """(header, offset of the first section, body) of a snapshot file."""
    length = struct.unpack_from("<I", data, 12)[0]
    start = 16 + length + (-(16 + length) % 8)
    return json.loads(data[16:16 + length].decode()), start, data[start:-leakbook.TRAILER_SIZE]


class Base(object):
    """A captured snapshot re-framed with SLACK more bytes of header room: a mutated header,
    padded with spaces to the same length, leaves every section where it was."""

    def __init__(self, data):
        header, start, self.body = split(data)
        for entry in header["sections"].values():
            entry["offset"] += SLACK
        self.header = header
        self.start = start + SLACK

    def text(self, header):
        return json.dumps(header, separators=(",", ":")).encode()

    def file(self, header=None, body=None, text=None, raw=None):
        """The bytes of a file with this header (a dict, or text), and body. raw: JSON text that
        replaces the PLACEHOLDER string in the header (for what json.dumps does not write)."""
        if text is None:
            text = self.text(self.header if header is None else header)
        if raw is not None:
            text = text.replace(json.dumps(PLACEHOLDER).encode(), raw)
        room = self.start - 16
        if len(text) <= room:
            text += b" " * (room - len(text))
        return frame(text, self.body if body is None else body)

    def mutated(self, path, value):
        return mutated(self.header, path, value)

    def column(self, name):
        entry = self.header["sections"][name]
        return entry["offset"] - self.start, entry["dtype"], entry["count"]

    def get(self, name, index):
        at, dtype, count = self.column(name)
        size = struct.calcsize(ITEM[dtype])
        return struct.unpack_from(ITEM[dtype], self.body, at + index * size)[0]

    def patched(self, name, index, value):
        """The body with entry `index` of the section set to value."""
        at, dtype, count = self.column(name)
        size = struct.calcsize(ITEM[dtype])
        body = bytearray(self.body)
        struct.pack_into(ITEM[dtype], body, at + index * size, value)
        return bytes(body)


def mutated(header, path, value):
    """A copy of the header with the value at path (keys and indexes) replaced, or deleted."""
    header = copy.deepcopy(header)
    target = header
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = copy.deepcopy(value)
    return header


def run_main(*args):
    """leakbook.main in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = leakbook.main(list(args))
    return code, out.getvalue(), err.getvalue()


class StrictInfoTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="leakbook-test-")
        cls.env = dict(os.environ, PYTHONPATH=AGENT_DIR, PYTHONIOENCODING="utf-8")
        subprocess.run([sys.executable, "-S", "-c", CAPTURE, cls.dir], env=cls.env, check=True,
                       stdin=subprocess.DEVNULL, timeout=TIMEOUT)
        cls.files = {}
        for name in ("plain", "census", "hostile"):
            path = os.path.join(cls.dir, name + ".lbsnap")
            with open(path, "rb") as f:
                cls.files[name] = f.read()
        cls.data = cls.files["plain"]
        cls.base = Base(cls.data)
        cls.census = Base(cls.files["census"])
        header = cls.base.header
        cls.objects = header["sections"]["obj_address"]["count"]
        cls.edges = header["sections"]["edge_target"]["count"]
        cls.strings = header["sections"]["str_offsets"]["count"] - 1
        cls.serial = 0

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def write(self, data, name=None):
        StrictInfoTest.serial += 1
        path = os.path.join(self.dir, name or "case-%d.lbsnap" % self.serial)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def run_info(self, *args, memory_limit=None):
        """`python3 -m leakbook info ARGS` in a child process (stdout, stderr as bytes)."""
        if memory_limit is None:
            command = [sys.executable, "-m", "leakbook", "info"] + list(args)
        else:
            command = [sys.executable, "-c",
                       "import resource, sys\n"
                       "resource.setrlimit(resource.RLIMIT_AS, (%d, %d))\n"
                       "import leakbook\n"
                       "sys.exit(leakbook.main(['info'] + sys.argv[1:]))\n" % (memory_limit, memory_limit)
                       ] + list(args)
        return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, env=self.env, timeout=TIMEOUT)

    def assert_one_line(self, code, out, err, words=None, what=None):
        self.assertEqual(code, 2, (what, err, out[:300]))
        self.assertEqual(out, "", what)
        self.assertTrue(err.startswith("leakbook: ") and err.endswith("\n"), (what, err))
        self.assertEqual(len(err.splitlines()), 1, (what, err))
        self.assertNotIn("Traceback", err, what)
        self.assertNotIn("internal error", err, what)
        if words is not None:
            self.assertIn(words, err, what)

    def assert_refused(self, data, words=None, what=None, json_too=False):
        path = self.write(data)
        code, out, err = run_main("info", path)
        self.assert_one_line(code, out, err, words, what)
        with self.assertRaises(leakbook.SnapshotError):
            leakbook.read_snapshot(path)
        if json_too:
            self.assert_one_line(*run_main("info", path, "--json"), words=words, what=what)
        os.unlink(path)
        return err

    def assert_refused_by_cli(self, *args, words=None, memory_limit=None):
        result = self.run_info(*args, memory_limit=memory_limit)
        self.assert_one_line(result.returncode, result.stdout.decode(), result.stderr.decode("utf-8", "replace"),
                             words, args)
        return result.stderr.decode()

    # -- good files ------------------------------------------------------------------------

    def test_captured_and_reframed_files_are_read(self):
        for name, data in (("plain", self.data), ("census", self.files["census"]),
                           ("hostile", self.files["hostile"]), ("reframed", self.base.file()),
                           ("reframed census", self.census.file())):
            path = self.write(data)
            code, out, err = run_main("info", path)
            self.assertEqual((code, err), (0, ""), name)
            code, out, err = run_main("info", path, "--json")
            self.assertEqual((code, err), (0, ""), name)
            summary = json.loads(out)
            header = leakbook.read_snapshot(path)["header"]
            self.assertEqual(summary["objects"], header["counts"]["objects"], name)
            self.assertEqual(sum(t["count"] for t in summary["types"].values()), summary["objects"])
        self.assertEqual(json.loads(run_main("info", self.write(self.base.file()), "--json")[1])["objects"],
                         self.objects)

    def test_committed_example_snapshots(self):
        examples = os.path.join(AGENT_DIR, os.pardir, "examples")
        paths = [os.path.join(root, name) for root, _dirs, names in os.walk(examples)
                 for name in names if name.endswith(".lbsnap")]
        if not paths:
            self.skipTest("no examples next to the agent")
        for path in sorted(paths)[::3]:
            for args in ((), ("--json",)):
                code, out, err = run_main("info", path, *args)
                self.assertEqual((code, err), (0, ""), path)
                self.assertIn("builtins.dict", out)  # GC-tracked: in census snapshots too

    # -- the header ------------------------------------------------------------------------

    def header_cases(self):
        n, e = self.objects, self.edges
        header = self.base.header
        sections = header["sections"]
        obj_type = sections["obj_type"]
        counts = header["counts"]
        cases = [
            (("format",), [5, "leakbook-other", None, DELETE]),
            (("version",), [2, 0, -1, "1", True, 1.0, None, DELETE, [1], 2 ** 40]),
            (("kind",), ["partial", 1, None, DELETE, ["full"], "census"]),
            (("agent_version",), [5, ["0.1.0"], {}]),
            (("types",), ["builtins.str", None, {"a": 1}, DELETE, header["types"][:-1],
                          header["types"] + ["extra"]]),
            (("types", 0), [5, None, ["builtins.str"]]),
            (("counts",), [[], "x", None, DELETE, {}]),
            (("sections",), [[], "x", None, DELETE, {}]),
            (("sections", "obj_type"), ["x", None, [], DELETE, {}]),
            (("sections", "obj_type", "dtype"), ["u16", "f64", "u8", None, ["u32"], 4, DELETE]),
            (("sections", "obj_type", "offset"), [-8, obj_type["offset"] + 4, float(obj_type["offset"]),
                                                  str(obj_type["offset"]), True, None, DELETE, 0, 8, 16,
                                                  obj_type["offset"] + 8, 2 ** 62]),
            (("sections", "obj_type", "length"), [-4, obj_type["length"] - 1, obj_type["length"] + 4,
                                                  0, None, "4", 2 ** 62]),
            (("sections", "obj_type", "count"), [obj_type["count"] + 1, -1, "x", None, 0]),
            (("sections", "edge_target", "offset"), [obj_type["offset"]]),
            (("sections", "str_data", "length"), [10 ** 9]),
            (("sections", "obj_alloc"), [{"dtype": "u32", "offset": sections["str_data"]["offset"],
                                          "length": 0, "count": 0},
                                         {"dtype": "u8", "offset": 0, "length": 0, "count": 0}]),
            (("sections", "extra"), [{"dtype": "u8", "offset": 8, "length": 8, "count": 8},
                                     {"dtype": "i64", "offset": 8, "length": 8, "count": 1},
                                     {"dtype": "u8", "offset": 2 ** 40, "length": 8, "count": 8}]),
            (("meta",), [None, [], "x", DELETE, 5]),
            (("meta", "pid"), ["1", -1, 1.5, True, []]),
            (("meta", "time"), [5, ["2024"]]),
            (("meta", "time_unix"), ["now", True]),
            (("meta", "python"), ["3.11", [3, 11]]),
            (("meta", "python", "version"), [3, ["3"]]),
            (("meta", "python", "implementation"), [{}]),
            (("meta", "duration_s"), [-1, "fast", -0.5]),
            (("meta", "argv"), [[1], "script.py", [None]]),
            (("meta", "failed_kinds"), [[1], "x", [{"count": -1}], [{"type": 5}]]),
            (("meta", "options"), ["x", [1]]),
            (("meta", "options", "value_len"), [-1, "64"]),
            (("meta", "sequence"), [-1, "0"]),
            (("meta", "failed_objects"), ["0", -2]),
            (("memory",), [None, [], DELETE, "x"]),
            (("memory", "rss"), [-5, "big", 1.5, True]),
            (("memory", "rss_peak"), [-5, [1]]),
            (("memory", "source"), [5]),
            (("memory", "pymalloc"), ["x", [], {"arenas_in_use": "x"}, {"arenas_in_use": -1}]),
            (("memory", "gc"), ["x", [1]]),
            (("memory", "gc", "count"), ["x", [-1], [1.5], {}]),
            (("memory", "gc", "enabled"), [1, "yes"]),
            (("memory", "gc", "garbage"), [-1]),
            (("memory", "tracemalloc"), [[], {}, {"current": "x", "peak": 0}, {"current": 0, "peak": -1},
                                         {"current": 0, "peak": 0, "overhead": "x"}, 5]),
            (("threads",), ["x", [1], [{"name": 5}], [{"frame": n}], [{"frame": -1}], [{"frame": "0"}],
                            [{"ident": "x"}], [{"ident": -1}], [{"daemon": "yes"}], {}]),
            (("lru_caches",), [{}, [5], [{"object": n + 5}], [{"object": -1}], [{"hits": -1}],
                               [{"name": []}], [{"maxsize": "big"}], [{"typed": 1}], "x"]),
            (("bounds",), ["x", [[1]], [[n, 3]], [[0, -1]], [["a", 1]], [1], [[0, 1, 2]], {}]),
            (("alloc_sites",), ["x", [[1]], [[{"file": 5, "line": 1}]], [5], [[{"file": "a", "line": -1}]],
                                {}]),
            (("census",), [{"types": {}}, 5, []]),
        ]
        for key in ("objects", "edges", "roots", "strings", "types"):
            cases.append((("counts", key), [-1, "5", 5.5, True, None, DELETE, counts[key] + 1, [5]]))
        cases.append((("counts", "objects"), [5, 0, n - 1, 2 ** 64]))
        cases.append((("counts", "edges"), [e - 1, 0]))
        return cases

    def test_every_header_field_checked(self):
        count = 0
        for path, values in self.header_cases():
            for value in values:
                what = "%s = %r" % ("/".join(map(str, path)), value if value is not DELETE else "deleted")
                self.assert_refused(self.base.file(self.base.mutated(path, value)), what=what)
                count += 1
        self.assertGreater(count, 200)

    def test_required_sections(self):
        for name in leakbook._SECTION_DTYPES:
            if name == "obj_alloc":
                continue
            header = self.base.mutated(("sections", name), DELETE)
            # The file still tiles: its bytes become a gap, or the sections end early.
            self.assert_refused(self.base.file(header), what=name)

    def test_raw_json_values(self):
        """Numbers JSON allows but the header must not hold, and what json.dumps does not write."""
        places = [("counts", "objects"), ("meta", "time_unix"), ("memory", "rss"), ("meta", "duration_s"),
                  ("sections", "obj_type", "offset"), ("threads",), ("version",)]
        raws = [b"1e999", b"-1e999", b"1E400", b"NaN", b"Infinity", b"-Infinity", b"1" + b"0" * 5000,
                b"-" + b"9" * 45, b"123456789012345678901234567890123456789012345"]
        for place in places:
            header = self.base.mutated(place, PLACEHOLDER)
            for raw in raws:
                self.assert_refused(self.base.file(header, raw=raw), what=(place, raw[:20]))

    def test_deep_nesting(self):
        start = b'{"format":"leakbook-snapshot","version":1,"kind":"full","meta":'
        for depth in (60000, 3000, 100, 65):
            for opening, closing in ((b"[", b"]"), (b'{"a":', b"}")):
                text = start + opening * depth + b"1" + closing * depth + b"}"
                err = self.assert_refused(self.base.file(text=text), "nested", what=(depth, opening))
                self.assertLess(len(err), 200)
        # Deep inside a complete, otherwise valid header.
        value = [[[]]]
        for _ in range(70):
            value = [value]
        self.assert_refused(self.base.file(self.base.mutated(("meta", "extra"), value)), "nested")

    def test_broken_json_text(self):
        text = self.base.text(self.base.header)
        for bad in (text[:len(text) // 2], text[:-1], b"[1, 2]", b'"leakbook"', b"null", b"5",
                    b"\xff\xfe" + text, text.replace(b'"kind"', b'"ki\x01nd"'),
                    text + b" trailing", b"", b" " * 100, text.replace(b'"full"', b'"\\ud800"')):
            self.assert_refused(self.base.file(text=bad), what=bad[:40])

    def test_census_snapshots(self):
        header = self.census.header
        census = header["census"]
        name = next(iter(census["types"]))
        cases = [
            (("census",), [None, DELETE, [], "x", {}]),
            (("census", "types"), [[], None, "x"]),
            (("census", "types", name), [[1], [-1, 0], ["1", 0], [1, -5], [1, "x"], 5, [1, 2, 3], None]),
            (("census", "objects"), [census["objects"] + 1, -1, None, "1"]),
            (("census", "bytes"), [-1, census["bytes"] + 1, "x"]),
            (("census", "tracked_only"), ["yes"]),
            (("census", "failed_objects"), [-1]),
            (("counts", "objects"), [5, census["objects"] + 1]),
            (("counts", "edges"), [1]),
            (("sections",), [{"obj_type": {"dtype": "u32", "offset": self.census.start, "length": 0,
                                           "count": 0}}]),
            (("types",), [["x"]]),
            (("kind",), ["full"]),
            (("threads",), [[{"frame": 0}]]),
            (("lru_caches",), [[{"object": 0}]]),
            (("bounds",), [[[0, 1]]]),
        ]
        for path, values in cases:
            for value in values:
                self.assert_refused(self.census.file(self.census.mutated(path, value)), what=(path, value))

    # -- the columns -----------------------------------------------------------------------

    def test_columns_checked(self):
        base = self.base
        n, e, s = self.objects, self.edges, self.strings
        types_ = len(base.header["types"])
        suffix = next(k for k in range(e) if base.get("edge_kind", k) != leakbook.EDGE_INDEX)
        str_data = base.header["sections"]["str_data"]["count"]
        cases = [
            ("obj_type", 0, types_), ("obj_type", n - 1, leakbook.NONE),
            ("obj_size", 0, float("nan")), ("obj_size", 1, float("inf")), ("obj_size", 2, -1.0),
            ("obj_size", n - 1, 2.0 ** 60), ("obj_size", 3, float("-inf")),
            ("obj_address", 0, float("nan")), ("obj_address", 1, -8.0),
            ("obj_name", 0, s), ("obj_name", n - 1, leakbook.NONE - 1),
            ("edge_start", 0, 1), ("edge_start", n, e - 1), ("edge_start", n // 2, 0xFFFFFF),
            ("edge_start", n // 2, 0),
            ("edge_target", 0, n), ("edge_target", e - 1, leakbook.NONE),
            ("edge_kind", 0, 7), ("edge_kind", e - 1, 255),
            ("edge_label", suffix, s), ("edge_label", suffix, leakbook.NONE),
            ("root_object", 0, n), ("root_kind", 0, 9), ("root_label", 0, s),
            ("str_offsets", s // 2, 0), ("str_offsets", s, str_data + 1), ("str_offsets", 1, leakbook.NONE),
        ]
        for name, index, value in cases:
            self.assert_refused(base.file(body=base.patched(name, index, value)), "corrupted",
                                what=(name, index, value))
        # Unchecked columns take any value: the file is still read.
        for name, value in (("obj_length", leakbook.NONE), ("obj_flags", 255)):
            self.assertEqual(run_main("info", self.write(base.file(body=base.patched(name, 0, value))))[0], 0)

    # -- the envelope ----------------------------------------------------------------------

    def test_truncations(self):
        data = self.data
        header, start, _body = split(data)
        length = struct.unpack_from("<I", data, 12)[0]
        cuts = {1, 4, 7, 8, 9, 12, 15, 16, 17, 20, 39, 40, 41, 16 + length - 1, 16 + length, start,
                len(data) // 3, len(data) // 2, len(data) - 25, len(data) - 24, len(data) - 23,
                len(data) - 16, len(data) - 8, len(data) - 1}
        for entry in header["sections"].values():
            cuts.update((entry["offset"], entry["offset"] + 1, entry["offset"] + entry["length"]))
        for cut in sorted(c for c in cuts if 0 < c < len(data)):
            self.assert_refused(data[:cut], "truncated", what=cut)
        # Cut, then given a valid trailer: the header describes more than the file holds.
        for cut in sorted(c for c in cuts if start < c < len(data) - 24)[::2]:
            self.assert_refused(frame(data[16:16 + length], data[start:cut]), what=("reframed", cut))
        self.assert_refused(b"", "empty")

    def test_trailer_and_preamble(self):
        data = self.data
        size = len(data)
        trailer = size - 24

        def patched(at, fmt, value):
            copy_ = bytearray(data)
            struct.pack_into(fmt, copy_, at, value)
            return bytes(copy_)

        for total in (size + 1, size - 1, 0, 2 ** 63, 2 ** 64 - 1, 5 << 30):
            self.assert_refused(patched(trailer + 16, "<Q", total), what=total)
        self.assert_refused(patched(trailer, "8s", b"LBEND002"), "truncated")
        self.assert_refused(patched(trailer + 8, "<I", 12345), "corrupted")
        self.assert_refused(data + b"\0" * 8, "truncated")
        self.assert_refused(data + data, "corrupted")
        for version in (0, 2, 0xFFFFFFFF):
            self.assert_refused(patched(8, "<I", version), "version", what=version)
        for length in (0, 1, 0xFFFFFFFF, size, size - 40, 300 << 20):
            self.assert_refused(patched(12, "<I", length), what=length)
        # Bit flips without a new CRC: corrupted, whether the header still parses or not.
        _header, start, _body = split(data)
        for at in (16, 17, 30, start // 2, start - 1, start, size // 2, trailer - 1):
            copy_ = bytearray(data)
            copy_[at] ^= 0x20
            self.assert_refused(bytes(copy_), "corrupted", what=at)
        for foreign in (b"LEAKBOOX" + data[8:], b"\0" * 100, b'{"format": "leakbook-snapshot"}\n',
                        os.urandom(4096), b"LEAK"):
            self.assert_refused(foreign, what=foreign[:10])

    def test_issue_probes_from_the_command_line(self):
        """The probes of issue 11, end to end."""
        base = self.base
        n = self.objects
        cases = [
            ("deep", base.file(text=b'{"format":"leakbook-snapshot","meta":' + b"[" * 60000 + b"]" * 60000 + b"}"),
             "nested"),
            ("1e999", base.file(base.mutated(("meta", "pid"), PLACEHOLDER), raw=b"1e999"), "out of range"),
            ("nan size", base.file(body=base.patched("obj_size", 0, float("nan"))), "obj_size"),
            ("type index", base.file(body=base.patched("obj_type", 0, len(base.header["types"]) + 3)),
             "type index"),
            ("version 2", base.file(base.mutated(("version",), 2)), "version"),
            ("negative length", base.file(base.mutated(("sections", "obj_size", "length"), -8)), "obj_size"),
            ("counts", base.file(base.mutated(("counts", "objects"), 5)), "counts.objects is 5"),
            ("wrong type", base.file(base.mutated(("memory", "gc"), "x")), "memory.gc"),
        ]
        self.assertGreater(n, 1000)
        for name, data, words in cases:
            self.assert_refused_by_cli(self.write(data), words=words)

    # -- what is not a regular file --------------------------------------------------------

    @unittest.skipUnless(hasattr(os, "mkfifo"), "no FIFOs")
    def test_fifo_refused_without_blocking(self):
        fifo = os.path.join(self.dir, "fifo.lbsnap")
        os.mkfifo(fifo)
        link = os.path.join(self.dir, "link-to-fifo.lbsnap")
        os.symlink(fifo, link)
        self.assertIn("FIFO", self.assert_refused_by_cli(fifo))
        self.assertIn("FIFO", self.assert_refused_by_cli(link, "--json"))

    def test_devices_directories_sockets(self):
        for device in ("/dev/zero", "/dev/null", "/dev/urandom"):
            if os.path.exists(device):
                self.assertIn("device", self.assert_refused_by_cli(device))
        self.assertIn("directory", self.assert_refused_by_cli(self.dir))
        self.assert_one_line(*run_main("info", self.dir), words="directory")
        self.assert_one_line(*run_main("info", os.path.join(self.dir, "absent.lbsnap")), words="no such file")
        self.assert_one_line(*run_main("info", "nul\0byte"))
        if hasattr(socket, "AF_UNIX"):
            path = os.path.join(self.dir, "sock.lbsnap")
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                server.bind(path)
                self.assert_one_line(*run_main("info", path), words="socket")
            finally:
                server.close()

    @unittest.skipUnless(sys.platform.startswith("linux"), "RLIMIT_AS and sparse files as on Linux")
    def test_sparse_huge_files_refused_without_reading(self):
        """5 GB of apparent size: refused from the trailer and header alone, in a child that
        could not hold the file in memory."""
        limit = 1 << 30
        cases = []
        path = os.path.join(self.dir, "sparse-no-trailer.lbsnap")
        cases.append((path, self.data[:4096], None, "truncated"))
        # A trailer that says 5 GB: the header's sections do not reach that far.
        huge = 5 << 30
        trailer = leakbook.TRAILER_MAGIC + struct.pack("<IIQ", 0, 0, huge)
        cases.append((os.path.join(self.dir, "sparse-trailer.lbsnap"), self.data[:-24], trailer, "sections end"))
        # A header length over the limit, with a trailer that matches the size.
        big = bytearray(self.data[:16])
        struct.pack_into("<I", big, 12, 300 << 20)
        trailer_big = leakbook.TRAILER_MAGIC + struct.pack("<IIQ", 0, 0, 400 << 20)
        cases.append((os.path.join(self.dir, "sparse-header.lbsnap"), bytes(big), trailer_big, "header length"))
        try:
            for path, head, tail, _words in cases:
                size = 400 << 20 if tail is trailer_big else huge
                with open(path, "wb") as f:
                    f.write(head)
                    f.truncate(size - (len(tail) if tail else 0))
                    if tail:
                        f.seek(0, os.SEEK_END)
                        f.write(tail)
                if os.stat(path).st_blocks * 512 > 64 << 20:
                    self.skipTest("this file system does not keep sparse files")
        except OSError as error:
            self.skipTest("no sparse file here: %s" % error)
        for path, _head, _tail, words in cases:
            err = self.assert_refused_by_cli(path, words=words, memory_limit=limit)
            self.assertNotIn("memory", err)
            os.unlink(path)

    # -- terminal escaping -----------------------------------------------------------------

    def assert_terminal_safe(self, output):
        for byte in output:
            self.assertTrue(byte == 0x0A or 0x20 <= byte != 0x7F, "byte %#x in %r" % (byte, output[:200]))
        text = output.decode("utf-8")
        for c in text:
            code = ord(c)
            self.assertFalse(0x80 <= code <= 0x9F or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069
                             or 0xD800 <= code <= 0xDFFF or code in (0x2028, 0x2029), "U+%04X" % code)
        return text

    def test_hostile_strings_escaped(self):
        name = "snap" + HOSTILE + ".lbsnap"
        path = self.write(self.files["hostile"], name)
        result = self.run_info(path)
        self.assertEqual(result.returncode, 0, result.stderr)
        out = self.assert_terminal_safe(result.stdout)
        self.assertIn("mod%s.Evil%s" % (ESCAPED, ESCAPED), out)  # a type
        self.assertIn("thread" + ESCAPED, out)  # a thread
        self.assertIn("__main__.cached" + ESCAPED, out)  # a cache
        self.assertTrue(out.startswith(os.path.join(self.dir, "snap" + ESCAPED + ".lbsnap: ")), out[:200])
        for line in out.splitlines():
            self.assertLess(len(line), 2000)
        # --json: JSON, every non-ASCII and control character escaped (DEL too), names intact.
        result = self.run_info(path, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(all(b == 0x0A or 0x20 <= b < 0x7F for b in result.stdout))
        summary = json.loads(result.stdout.decode("ascii"))
        self.assertIn("mod%s.Evil%s" % (HOSTILE, HOSTILE), summary["types"])
        self.assertIn("thread" + HOSTILE, [t["name"] for t in summary["threads"]])
        self.assertEqual(summary["file"], path)
        # An error naming the file: one line, escaped.
        result = self.run_info(path + ".absent")
        self.assertEqual(result.returncode, 2)
        err = self.assert_terminal_safe(result.stderr)
        self.assertEqual(len(err.splitlines()), 1)
        self.assertIn(ESCAPED + ".lbsnap.absent: no such file", err)

    def test_every_printed_header_string_escaped(self):
        """Header strings the capture does not control (any writer's file): lone surrogates,
        line separators, controls in every string the text output shows."""
        nasty = "a\ud800b\u2028c\x1b[31m\u200f\u061c\x00\x85\u202a\u2069"
        header = copy.deepcopy(self.base.header)
        header["types"][0] = "t" + nasty
        header["agent_version"] = "v" + nasty
        header["meta"]["time"] = "time" + nasty
        header["meta"]["python"]["version"] = "p" + nasty
        header["meta"]["python"]["implementation"] = "i" + nasty
        header["memory"]["source"] = "s" + nasty
        header["threads"] = [{"ident": 1, "name": "n" + nasty, "daemon": True, "frame": None}]
        header["lru_caches"] = [{"object": 0, "name": "c" + nasty, "hits": 1, "misses": 2, "maxsize": None,
                                 "currsize": 1, "typed": False}]
        body = bytearray(self.base.body)
        at, _dtype, count = self.base.column("obj_type")
        struct.pack_into("<I", body, at, 0)
        size_at = self.base.column("obj_size")[0]
        struct.pack_into("<d", body, size_at, 1e15)  # type 0 is the biggest: listed
        path = self.write(self.base.file(header, bytes(body)), "nasty\u202e\x1b.lbsnap")
        code, out, err = run_main("info", path)
        self.assertEqual((code, err), (0, ""))
        text = self.assert_terminal_safe(out.encode("utf-8"))
        escaped = "a\\ud800b\\u2028c\\x1b[31m\\u200f\\u061c\\x00\\x85\\u202a\\u2069"
        for prefix in ("t", "v", "time", "p", "i", "s", "n", "c"):
            self.assertIn(prefix + escaped, text)
        self.assertIn("nasty\\u202e\\x1b.lbsnap", text)
        code, out, err = run_main("info", path, "--json")
        self.assertEqual(code, 0)
        self.assertTrue(all(ord(c) < 128 for c in out))
        self.assertIn("t" + nasty, json.loads(out)["types"])

    def test_terminal_text(self):
        escape = leakbook._terminal_text
        self.assertEqual(escape("plain text, é, 中文, emoji \U0001F600"), "plain text, é, 中文, emoji \U0001F600")
        self.assertEqual(escape(HOSTILE), ESCAPED)
        for code in list(range(0x20)) + list(range(0x7F, 0xA0)) + list(range(0x202A, 0x202F)) \
                + list(range(0x2066, 0x206A)) + [0x2028, 0x2029, 0x200E, 0x200F, 0x061C, 0xD800, 0xDFFF]:
            shown = escape(chr(code))
            self.assertTrue(shown.startswith("\\"), hex(code))
            self.assertTrue(all(32 <= ord(c) < 127 for c in shown), hex(code))

    # -- fuzzing ---------------------------------------------------------------------------

    def test_random_mutations(self):
        rng = random.Random(11)
        base, census = self.base, self.census
        values = [None, True, False, -1, 0, 1, 7, 2 ** 31, 2 ** 64, 10 ** 39, -10 ** 39, 0.5, -0.0, 1e308,
                  "", "x", "\x1b[2J", "full", "census", "u8", "f64", [], {}, [1], [-1], {"a": 1}, [[[]]],
                  [{"frame": 0}], [0, 1], DELETE]

        def random_path(header):
            path = []
            target = header
            while isinstance(target, (dict, list)) and target and (not path or rng.random() < 0.6):
                key = rng.choice(list(target)) if isinstance(target, dict) else rng.randrange(len(target))
                path.append(key)
                target = target[key]
            return path

        def mutate(data_base, original):
            kind = rng.randrange(7)
            if kind == 0:  # flips anywhere, no new CRC
                data = bytearray(original)
                for _ in range(rng.randint(1, 4)):
                    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
                return bytes(data)
            if kind == 1:  # flips in the body, with a new CRC
                body = bytearray(data_base.body or b"\0")
                for _ in range(rng.randint(1, 8)):
                    body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
                return data_base.file(body=bytes(body[:len(data_base.body)]))
            if kind == 2:  # flips in the header text, with a new CRC
                text = bytearray(data_base.text(data_base.header))
                for _ in range(rng.randint(1, 3)):
                    text[rng.randrange(len(text))] ^= 1 << rng.randrange(8)
                return data_base.file(text=bytes(text))
            if kind == 3:  # a header value replaced or removed
                header = data_base.header
                for _ in range(rng.randint(1, 2)):
                    path = random_path(header)
                    if not path:
                        continue
                    header = mutated(header, path, rng.choice(values))
                return data_base.file(header)
            if kind == 4:  # cut short
                return original[:rng.randrange(len(original))]
            if kind == 5:  # a run of bytes of the body replaced by another's, with a new CRC
                body = bytearray(data_base.body)
                if len(body) > 64:
                    a, b = rng.randrange(len(body) - 32), rng.randrange(len(body) - 32)
                    body[a:a + 32] = body[b:b + 32]
                return data_base.file(body=bytes(body))
            # a section entry's number moved a little
            header = copy.deepcopy(data_base.header)
            if header["sections"]:
                entry = header["sections"][rng.choice(sorted(header["sections"]))]
                key = rng.choice(["offset", "length", "count"])
                entry[key] += rng.choice([-9, -8, -4, -1, 1, 4, 8, 16])
            return data_base.file(header)

        outcomes = {0: 0, 2: 0}
        for case in range(320):
            data_base, original = (census, self.files["census"]) if case % 5 == 4 else (base, self.data)
            data = mutate(data_base, original)
            path = self.write(data, "fuzz.lbsnap")
            args = ("info", path, "--json") if case % 3 == 0 else ("info", path)
            code, out, err = run_main(*args)
            self.assertIn(code, (0, 2), (case, err))
            outcomes[code] += 1
            if code == 2:
                self.assert_one_line(code, out, err, what=case)
            else:
                self.assertEqual(err, "")
                self.assertTrue(out)
        self.assertGreater(outcomes[2], 100)


if __name__ == "__main__":
    unittest.main()
