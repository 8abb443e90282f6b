#!/usr/bin/env python3
"""Socket-level fuzzing of a running bbcsd.

Starts `bbcsd --dev DIR` (or takes --socket and --pid of a daemon already running), then
sends random, mutated and valid request lines over several connections at once, each
connection's bytes cut into writes of random sizes (1-byte writes, a few bytes, several
lines per write, everything at once). It checks that
  - every complete line gets exactly one reply line, in order: a reply is a JSON object
    with an id and either a result or an error, and where the line plainly carries an
    integer or string id (standard JSON, as Python reads it) the reply carries the same;
  - the daemon stays alive and answers system.hello afterwards;
  - its descriptor count (/proc/PID/fd) returns to the baseline and its RSS to near it
    once the connections are closed.
Prints its figures; exits 1 on any failed check. Valid requests come from the daemon's own
`system.describe`, with codes, posts and logins read from the daemon at the start.
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

MAX_LINE = 1 << 20          # the daemon's default max_line_bytes
FD_SETTLE_SECONDS = 15      # how long the daemon may take to close what the run opened


def log(message):
    print(f"socket-fuzz: {message}", flush=True)


# ---------------------------------------------------------------- the daemon

class Daemon:
    """A `bbcsd --dev DIR` started for the run, or one given by socket and pid."""

    def __init__(self, args):
        self.process = None
        self.dir = None
        if args.socket:
            self.socket, self.pid = args.socket, args.pid
            return
        self.dir = tempfile.mkdtemp(prefix="bbcs-socket-fuzz-")
        os.chmod(self.dir, 0o755)  # run as root, the cluster inside runs as postgres
        self.socket = os.path.join(self.dir, "bbcsd.sock")
        self.log_path = os.path.join(self.dir, "bbcsd.log")
        command = [args.bbcsd, "--dev", self.dir, "--log-level", args.log_level, "--pool-size", str(args.pool_size)]
        log(f"starting {' '.join(command)}")
        with open(self.log_path, "wb") as out:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        self.pid = self.process.pid
        deadline = time.monotonic() + args.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"socket-fuzz: bbcsd exited {self.process.returncode} at start:\n{self.tail()}")
            try:
                call(self.socket, "system.hello")
                return
            except OSError:
                time.sleep(0.5)
        raise SystemExit(f"socket-fuzz: bbcsd did not answer within {args.start_timeout} s:\n{self.tail()}")

    def tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-4000:].decode(errors="replace")
        except OSError:
            return ""

    def alive(self):
        if self.process is not None:
            return self.process.poll() is None
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except OSError:
            return False

    def fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_kib(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, keep):
        """SIGTERM, and the exit status (None for a daemon we did not start)."""
        status = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    status = self.process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    status = self.process.wait()
            else:
                status = self.process.returncode
        if self.dir and not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        return status


def call(path, method, params=None, timeout=30):
    """One request on a connection of its own; the reply as JSON."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        request = {"id": 1, "method": method}
        if params is not None:
            request["params"] = params
        s.sendall(json.dumps(request).encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


# ---------------------------------------------------------------- requests

class Generator:
    """Request lines: valid ones for every method `system.describe` lists, mutations of
    them, and random bytes. A line never contains `\\n` (its end is added by the sender)."""

    def __init__(self, rng, describe, facts, plan_text):
        self.rng = rng
        self.methods = describe
        self.facts = facts
        self.plan_text = plan_text
        self.next_id = 0

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def sample(self, name, kind):
        r = self.rng
        f = self.facts
        if kind == "period":
            year = r.choice([2021, 2023, 2024, 2025, 2026, 2027, 2028])
            text = f"{year}/{(year + 1) % 100:02d}"
            return text + r.choice(["", " Q1", " Q2", " Q3", " Q4"])
        if kind == "date":
            return f"{r.randint(2024, 2028)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        if kind == "integer":
            return r.choice([1, 2, 3, 7, 28, 50, 100, r.randint(0, 1000)])
        if kind == "number":
            return r.choice([0, 1.5, 12, 85.5, 250, r.uniform(0, 5000)])
        if kind == "boolean":
            return r.random() < 0.5
        lowered = name.lower()
        if name == "code":
            return r.choice(f["codes"] or ["ComS_011"])
        if "post" in lowered:
            return r.choice(f["posts"] or ["admin"])
        if "login" in lowered or name == "user":
            return r.choice(f["logins"] or ["root"])
        if name == "status":
            return r.choice(["not_started", "on_track", "at_risk", "off_track", "completed", "deferred", "cancelled"])
        if name == "objective":
            return r.choice(["CS1", "CS2", "CS3"])
        if name == "category":
            return r.choice(["service_data", "csi", "kpi", "mpi"])
        if name == "content":
            return self.plan_text if self.plan_text and r.random() < 0.05 else "{}"
        return r.choice(["fuzz", "a note", "because", "Licensing Manager", "x" * r.randint(1, 300)])

    def valid(self, method=None):
        m = method or self.rng.choice(self.methods)
        params = {}
        for p in m["params"]:
            if p.get("required") or self.rng.random() < 0.5:
                params[p["name"]] = self.sample(p["name"], p.get("type", "string"))
        request = {"id": self.new_id(), "method": m["name"]}
        if params or self.rng.random() < 0.5:
            request["params"] = params
        return request

    def hostile_value(self):
        r = self.rng
        return r.choice([
            None, True, -1, 0, 2 ** 31, 2 ** 63, -(2 ** 63) - 1, 10 ** 30, 1e308, -1e308, 1e-320, 0.1,
            "", " ", "\u0000", "a\u0000b", "\u202e", "\ud800", "\udfff\ud800", "😀" * r.randint(1, 50), "0000-01-01", "9999-12-31",
            "1900/01", "2099/00", "2025/26 Q5", "2025/26 Q0", "-1/00", "99999/00", "2025-02-30",
            "x" * r.choice([1000, 5000, 70000]), [], [1, 2], {}, {"a": {"b": []}},
        ])

    def structurally_mutated(self):
        """A valid request with its structure changed: a value, a key, the id, the method."""
        r = self.rng
        request = self.valid()
        params = request.get("params")
        choice = r.randrange(10)
        if choice == 0 and isinstance(params, dict) and params:
            params[r.choice(list(params))] = self.hostile_value()
        elif choice == 1 and isinstance(params, dict) and params:
            del params[r.choice(list(params))]
        elif choice == 2:
            request["params"] = self.hostile_value()
        elif choice == 3:
            request["id"] = r.choice([None, "", "id-" + "x" * r.randint(0, 64), -1, 0, 2 ** 63 - 1, 2 ** 63, 1.5,
                                      True, [], {}, "\u0000", "😀"])
        elif choice == 4:
            del request["id"]
        elif choice == 5:
            request["method"] = r.choice(["", "system", "system.", ".hello", "SYSTEM.HELLO", "system.hello ",
                                          request["method"] + "x", "a" * 10000, None, 1, [], {}])
        elif choice == 6:
            del request["method"]
        elif choice == 7 and isinstance(params, dict):
            params["unknown_" + str(r.randint(0, 9))] = self.hostile_value()
        elif choice == 8:
            depth = r.choice([10, 100, 600, 5000])
            request["params" if r.random() < 0.5 else "extra"] = "[" * depth + "]" * depth
            return self.encode(request).replace(b'"' + b"[" * depth + b"]" * depth + b'"', b"[" * depth + b"]" * depth)
        else:
            return self.encode(request) + b" " * r.randint(0, 8) + r.choice([b"", b"\r"])
        return self.encode(request)

    def encode(self, value):
        text = json.dumps(value, ensure_ascii=self.rng.random() < 0.5)
        return text.encode("utf-8", "surrogatepass")

    def byte_mutated(self):
        r = self.rng
        data = bytearray(self.encode(self.valid()))
        for _ in range(r.randint(1, 8)):
            op = r.randrange(6)
            at = r.randrange(len(data) + 1)
            if op == 0 and data:
                data[min(at, len(data) - 1)] = r.randrange(256)
            elif op == 1:
                data[at:at] = bytes([r.randrange(256)])
            elif op == 2 and data:
                del data[at:at + r.randint(1, 8)]
            elif op == 3:
                data[at:at] = r.choice([b"{", b"}", b"[", b"]", b'"', b"\\", b",", b":", b"\\u0000", b"\xff", b"\xc3",
                                        b"\xed\xa0\x80", b"null", b"1e999", b"-0", b'"id":7,'])
            elif op == 4 and data:
                end = r.randrange(len(data) + 1)
                data[at:at] = data[min(at, end):max(at, end)][:256]
            else:
                del data[at:]
        return bytes(data).replace(b"\n", b" ")

    def random_bytes(self):
        r = self.rng
        size = r.choice([0, 1, 2, 16, 200, r.randint(0, 4096)])
        return bytes(r.randrange(256) for _ in range(size)).replace(b"\n", b"\r")

    def line(self):
        # Most lines are refused before the database; those that reach it cost a query or more.
        roll = self.rng.random()
        if roll < 0.10:
            return self.encode(self.valid())
        if roll < 0.35:
            return self.structurally_mutated()
        if roll < 0.75:
            return self.byte_mutated()
        if roll < 0.999:
            return self.random_bytes()
        # A big line still under the cap.
        return self.encode({"id": self.new_id(), "method": "post.add", "params": {"name": "n" * self.rng.randint(100_000, MAX_LINE - 100)}})


def no_constants(text):
    raise ValueError(text)


def unique_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key repeats")  # JSON leaves open which one counts
    return dict(pairs)


def plain_id(line):
    """The id a standard JSON reader sees in the line when it is plainly an integer or a
    string; None when the line gives no such id."""
    try:
        value = json.loads(line.decode("utf-8"), parse_constant=no_constants, object_pairs_hook=unique_keys)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None
    if not isinstance(value, dict) or "id" not in value:
        return None
    ident = value["id"]
    if isinstance(ident, bool):
        return None
    if isinstance(ident, int) and -(2 ** 63) <= ident < 2 ** 63:
        return ident
    if isinstance(ident, str):
        return ident
    return None


def plain_method(line):
    try:
        value = json.loads(line.decode("utf-8"))
        return value["method"] if isinstance(value, dict) and isinstance(value.get("method"), str) else "?"
    except (ValueError, RecursionError, UnicodeDecodeError):
        return "?"


def depth(line):
    deepest = level = 0
    for byte in line:
        if byte in b"[{":
            level += 1
            deepest = max(deepest, level)
        elif byte in b"]}":
            level -= 1
    return deepest


# ---------------------------------------------------------------- one connection

class Figures:
    def __init__(self):
        self.lock = threading.Lock()
        self.lines = self.replies = self.connections = self.writes = self.one_byte_writes = 0
        self.bytes = self.saved = 0
        self.codes = Counter()
        self.internal = Counter()
        self.failures = []

    def save(self, payload, chunks):
        """Keeps a connection's bytes and its write sizes, for replaying."""
        with self.lock:
            self.saved += 1
            path = os.path.join(tempfile.gettempdir(), f"bbcs-socket-fuzz-{os.getpid()}-{self.saved}")
        with open(path + ".bytes", "wb") as f:
            f.write(payload)
        with open(path + ".writes", "w") as f:
            f.write(" ".join(str(len(c)) for c in chunks) + "\n")
        return path + ".{bytes,writes}"

    def fail(self, message):
        with self.lock:
            if len(self.failures) < 20:
                self.failures.append(message)


def writes_for(rng, payload, lines):
    """Cuts a connection's bytes into writes: the pattern is chosen per connection."""
    pattern = rng.choice(["one-byte", "tiny", "143", "medium", "per-line", "whole", "mixed"])
    if pattern == "one-byte" and len(payload) > 4096:
        pattern = "tiny"
    if pattern == "per-line":
        return [line + b"\n" for line in lines]
    sizes = {"one-byte": lambda: 1, "tiny": lambda: rng.randint(1, 16), "143": lambda: 143,
             "medium": lambda: rng.randint(17, 8192), "whole": lambda: len(payload) or 1,
             "mixed": lambda: rng.choice([1, 2, 3, 143, 1000, 65536])}[pattern]
    chunks, at = [], 0
    while at < len(payload):
        size = sizes()
        chunks.append(payload[at:at + size])
        at += size
    return chunks


def run_connection(path, lines, rng, figures, timeout):
    payload = b"".join(line + b"\n" for line in lines)
    chunks = writes_for(rng, payload, lines)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    write_error = []

    def writer():
        try:
            for chunk in chunks:
                s.sendall(chunk)
            s.shutdown(socket.SHUT_WR)
        except OSError as error:
            write_error.append(error)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    received = bytearray()
    try:
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            received += chunk
    except OSError as error:
        answered = received.count(b"\n")
        figures.fail(f"connection of {len(lines)} lines: reading replies failed after {answered}: {error}")
    thread.join(timeout)
    s.close()
    if write_error:
        figures.fail(f"connection of {len(lines)} lines: writing failed: {write_error[0]}")

    replies = received.split(b"\n")
    if replies[-1]:
        figures.fail(f"a reply without its newline: {bytes(replies[-1][:200])!r}")
    replies = replies[:-1]
    codes = Counter()
    if len(replies) != len(lines):
        saved = figures.save(payload, chunks)
        figures.fail(f"{len(lines)} lines, {len(replies)} replies (the bytes and their writes: {saved})")
    for index, (line, reply) in enumerate(zip(lines, replies)):
        try:
            answer = json.loads(reply)
        except ValueError:
            figures.fail(f"reply {index} is not JSON: {bytes(reply[:200])!r}")
            continue
        if not isinstance(answer, dict) or "id" not in answer or ("result" in answer) == ("error" in answer):
            figures.fail(f"reply {index} is no reply: {bytes(reply[:200])!r}")
            continue
        code = answer["error"].get("code", "?") if "error" in answer else "result"
        codes[code] += 1
        if code == "internal":
            # No input is the daemon's fault: bad input is named, never "internal".
            method = plain_method(line)
            with figures.lock:
                figures.internal[method] += 1
            figures.fail(f"line {index} ({method}) answered internal: {line[:300]!r}")
        expected = plain_id(line)
        # Deeper than the daemon's JSON reader goes, a line is fairly "not JSON".
        if expected is not None and answer["id"] != expected and not (code == "parse_error" and depth(line) > 256):
            figures.fail(f"line {index} has id {expected!r}, its reply {answer['id']!r} ({code}): {line[:200]!r}")
    with figures.lock:
        figures.connections += 1
        figures.lines += len(lines)
        figures.replies += len(replies)
        figures.writes += len(chunks)
        figures.one_byte_writes += sum(1 for c in chunks if len(c) == 1)
        figures.bytes += len(payload)
        figures.codes.update(codes)


def fuzz(path, generator, rng, total, seconds, workers, figures, timeout):
    """Sends `total` lines (or stops after `seconds`) over `workers` connections at a time."""
    lock = threading.Lock()
    state = {"left": total}
    deadline = time.monotonic() + seconds if seconds else None

    def worker(seed):
        local = random.Random(seed)
        while True:
            with lock:
                if state["left"] <= 0 or (deadline and time.monotonic() > deadline):
                    return
                count = min(state["left"], local.choice([1, 2, 10, 100, 500, 2000]))
                state["left"] -= count
                lines = [generator.line() for _ in range(count)]
            run_connection(path, lines, local, figures, timeout)

    threads = [threading.Thread(target=worker, args=(rng.random(),)) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def settle(daemon, baseline_fds):
    deadline = time.monotonic() + FD_SETTLE_SECONDS
    while time.monotonic() < deadline:
        if daemon.fds() <= baseline_fds:
            break
        time.sleep(0.25)
    return daemon.fds()


def too_large_is_refused(path):
    """A line over the cap is answered too_large, then the connection is closed."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(path)
        try:
            s.sendall(b'{"id":1,"method":"system.hello","params":{"x":"' + b"x" * MAX_LINE + b'"}}\n')
        except OSError:
            pass  # the daemon may close before taking it all
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
    replies = data.split(b"\n")[:-1]
    return len(replies) == 1 and json.loads(replies[0]).get("error", {}).get("code") == "too_large"


def late_reader_is_answered(path):
    """Replies bigger than the socket's buffer, to a client that half-closes and reads a
    moment later, arrive whole: the daemon must not close with replies still unwritten."""
    # One reply past the socket's buffer (the plan's import alone audits more than 1,000 rows).
    requests = [b'{"id":1,"method":"audit.list","params":{"limit":1000}}\n']
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(60)
        s.connect(path)
        s.sendall(b"".join(requests))
        s.shutdown(socket.SHUT_WR)
        time.sleep(2)
        data = bytearray()
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            data += chunk
    return data.count(b"\n") == len(requests) and data.endswith(b"\n"), len(data)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bbcsd", default=os.path.join(here, "..", ".build", "debug", "bbcsd"), help="the daemon to start (default: .build/debug/bbcsd)")
    parser.add_argument("--socket", help="fuzz a daemon already running on this socket (with --pid)")
    parser.add_argument("--pid", type=int, help="that daemon's pid, for its fds and RSS")
    parser.add_argument("--lines", type=int, default=100_000, help="lines to send (default 100000)")
    parser.add_argument("--seconds", type=float, default=0, help="stop sending after this long, whatever --lines says (0: no limit)")
    parser.add_argument("--ci", action="store_true", help="the bounded run: --seconds 60")
    parser.add_argument("--connections", type=int, default=4, help="connections open at once (default 4)")
    parser.add_argument("--seed", type=int, help="random seed (default: from the clock, printed)")
    parser.add_argument("--rss-slack-mib", type=int, default=96, help="RSS growth allowed after the run (default 96 MiB)")
    parser.add_argument("--start-timeout", type=float, default=180)
    parser.add_argument("--timeout", type=float, default=120, help="the longest a connection may wait for a reply")
    parser.add_argument("--log-level", default="notice", help="the daemon's log level (default notice)")
    parser.add_argument("--pool-size", type=int, default=4,
                        help="the daemon's database pool (default 4): its connections, opened as load needs them and kept, "
                             "may stand above the baseline after the run")
    parser.add_argument("--keep", action="store_true", help="keep the --dev folder (and its log)")
    args = parser.parse_args()
    if args.socket and not args.pid:
        parser.error("--socket needs --pid")
    if args.ci and not args.seconds:
        args.seconds = 60
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    log(f"seed {seed}")

    daemon = Daemon(args)
    failures = []
    try:
        # watch.subscribe turns its connection into a stream of events that takes no more
        # requests (a line sent is answered invalid_request and closes): not a request-reply
        # method, so it is left out (WatchTests cover it).
        describe = [m for m in call(daemon.socket, "system.describe")["result"]["methods"] if m["name"] != "watch.subscribe"]
        facts = {"codes": [], "posts": [], "logins": []}
        indicators = call(daemon.socket, "indicator.list").get("result", {})
        tasks = call(daemon.socket, "task.list").get("result", {})
        facts["codes"] = [i["code"] for i in indicators.get("indicators", [])] + [t["code"] for t in tasks.get("tasks", [])]
        facts["posts"] = [p["name"] for p in call(daemon.socket, "post.list").get("result", {}).get("posts", [])]
        facts["logins"] = [u["login"] for u in call(daemon.socket, "user.list").get("result", {}).get("users", [])]
        plan_path = os.path.join(here, "..", "Config", "plans", "broxtowe-community-safety-2025-2028.json")
        plan_text = open(plan_path).read() if os.path.exists(plan_path) else None
        generator = Generator(rng, describe, facts, plan_text)
        log(f"{len(describe)} methods, {len(facts['codes'])} codes, {len(facts['posts'])} posts, {len(facts['logins'])} users")

        # Warm up with valid requests of every method, so the pool and caches are at their
        # working size before the baseline is taken.
        warm = Figures()
        for method in describe:
            run_connection(daemon.socket, [generator.encode(generator.valid(method)) for _ in range(3)], rng, warm, args.timeout)
        failures += warm.failures
        fds_before, rss_before = daemon.fds(), daemon.rss_kib()

        figures = Figures()
        started = time.monotonic()
        fuzz(daemon.socket, generator, rng, args.lines, args.seconds, args.connections, figures, args.timeout)
        elapsed = time.monotonic() - started
        failures += figures.failures

        alive = daemon.alive()
        hello = False
        if alive:
            try:
                hello = "result" in call(daemon.socket, "system.hello")
            except OSError as error:
                failures.append(f"system.hello after the run: {error}")
        if not (alive and hello):
            failures.append("the daemon is not alive and answering after the run")
        refused = alive and too_large_is_refused(daemon.socket)
        if alive and not refused:
            failures.append("a line over 1 MiB was not answered with one too_large reply and a close")
        late, late_bytes = late_reader_is_answered(daemon.socket) if alive else (False, 0)
        if alive and not late:
            failures.append(f"a large reply to a client that half-closed and read 2 s later was cut short ({late_bytes} bytes, "
                            "no newline at the end)")
        fds_after = settle(daemon, fds_before + args.pool_size) if daemon.alive() else -1
        rss_after = daemon.rss_kib() if daemon.alive() else -1
        # The pool keeps the connections the run's concurrency opened; anything more is a leak.
        if fds_after > fds_before + args.pool_size:
            failures.append(f"descriptors {fds_before} before, {fds_after} after (more than the {args.pool_size} of the database pool)")
        if rss_after - rss_before > args.rss_slack_mib * 1024:
            failures.append(f"RSS {rss_before // 1024} MiB before, {rss_after // 1024} MiB after (more than {args.rss_slack_mib} MiB up)")

        log(f"lines {figures.lines}, replies {figures.replies}, connections {figures.connections}, "
            f"writes {figures.writes} ({figures.one_byte_writes} of 1 byte), {figures.bytes / 1e6:.1f} MB sent")
        log(f"{elapsed:.1f} s, {figures.lines / elapsed if elapsed else 0:.0f} lines/s over {args.connections} connections")
        log("codes: " + ", ".join(f"{code} {n}" for code, n in figures.codes.most_common()))
        if figures.internal:
            log("internal by method: " + ", ".join(f"{method} {n}" for method, n in figures.internal.most_common()))
        log(f"daemon alive {alive and hello}; too_large refused {refused}; late reader answered {late}; fds {fds_before} -> {fds_after}; "
            f"RSS {rss_before / 1024:.1f} -> {rss_after / 1024:.1f} MiB")
    finally:
        status = daemon.stop(args.keep or bool(failures))
        if status not in (None, 0):
            failures.append(f"bbcsd exited {status} on SIGTERM")
        if failures and daemon.dir:
            log(f"kept {daemon.dir} (its log: {daemon.log_path})")
            if daemon.process is not None:
                print(daemon.tail(), file=sys.stderr)
    for failure in failures:
        log(f"FAILED: {failure}")
    log(f"{'FAILED' if failures else 'passed'}: seed {seed}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
