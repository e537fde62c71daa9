#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""chaos: every writer and reader of scales at once, with faults (issue 13).

Runs for CHAOS_SECONDS (default 30) with, in one segment directory:

  survivor   test/hardening/hard-writer in `load` mode (app hardload,
             8 threads, exact totals), alive from start to end;
  victims    examples/demo-server, examples/demo-load (against the
             server's fixed port), hard-writer in `kill` mode (app
             hardkill) and grow-writer (app chaosgrow: its string area
             grows into untouched pages), SIGKILLed at random moments and
             started again; and, in cycles, hard-writer in `shared` mode,
             whose forked child is SIGKILLed at a random moment before the
             parent registers 20 more stats, which must all be visible;
  readers    scales-export (Graphite to a real carbon-cache started here,
             and --http, whose /metrics is polled), `scales-top -1`,
             `scales-top -j` and `scales-top --gc`, in loops, and 200 slow
             HTTP clients that trickle a header line every 2 s;
  junk       planted while it runs: random bytes under segment-like names,
             truncated and full `cp` copies of live segments under other
             pids' names, a fifo, a directory, a symlink, a mode-000 file;
  full fs    the directory is a small tmpfs (when mount is permitted; a
             TAP skip otherwise), filled to the last byte for a few
             seconds in the middle of the run, while a demo-load meets its
             first replies, a demo-server starts and a grow-writer grows.

Each end check is one TAP line: no process died by a signal but the
deliberate SIGKILLs; no reader failed (exit status, stderr lines other than
the one-line "skipping PATH: reason" warnings for planted items, invalid
JSON, an HTTP error); carbon's last values for the survivor equal the
totals it counted; every live stat of every survivor is in `scales-top -j`
and in /metrics, with the survivor's exact values; no copy shows as a live
process.

A check of a bug that is known and not fixed yet goes through
tap_pending(): it prints `not ok ... # TODO issue-13-item-N` when it fails
(an expected failure); SCALES_HARD_PENDING=1 (or naming the item) makes it
fail for real. None is pending now: items 1 and 10 were, until their fixes
(ba3ec56, 565c1a5) landed.

Environment: SCALES_BUILD_ROOT (set by meson), CHAOS_SECONDS,
SCALES_HARD_SEED (repeats a run's random choices), SCALES_CHAOS_KEEP=1
(keep the working directory).
"""
import errno
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

B = os.environ.get('SCALES_BUILD_ROOT', 'build')
SERVER = os.path.join(B, 'examples', 'demo-server')
LOAD = os.path.join(B, 'examples', 'demo-load')
HW = os.path.join(B, 'test', 'hardening', 'hard-writer')
GROW = os.environ.get('CHAOS_GROW_WRITER',
                      os.path.join(B, 'test', 'chaos', 'grow-writer'))
TOP = os.path.join(B, 'tools', 'scales-top', 'scales-top')
EXPORT = os.path.join(B, 'tools', 'scales-export', 'scales-export')
PY = '/usr/bin/python3'
CARBON = '/usr/bin/carbon-cache'
FETCH = '/usr/bin/whisper-fetch'
SECONDS = float(os.environ.get('CHAOS_SECONDS', '30'))
SEED = int(os.environ.get('SCALES_HARD_SEED', str(int(time.time()))))
PENDING = os.environ.get('SCALES_HARD_PENDING', '')
# scales-export built with --http (libmicrohttpd)
HTTP = os.environ.get('SCALES_CHAOS_HTTP', '1') == '1'

# hard-writer's load mode (test/hardening/workload.h)
LOAD_THREADS = 8
STOP_PRE = 1500
DYN_EVERY = 5000
DYN_KEEP = 4

tap_n = 0


def tap(ok, msg, diag=()):
    global tap_n
    tap_n += 1
    print('%sok %d - %s' % ('' if ok else 'not ', tap_n, msg))
    for d in list(diag)[:12]:
        for line in str(d).splitlines()[:6]:
            print('# ' + line[:400])
    sys.stdout.flush()
    return ok


def tap_pending(item, ok, msg, diag=()):
    """A check of a known bug, issue 13 item ITEM: expected to fail until
    the fix lands (then it passes and the mark is to be removed)."""
    name = 'issue-13-item-%d' % item
    strict = PENDING == '1' or name in PENDING
    if ok or strict:
        return tap(ok, msg, diag)
    return tap(False, msg + ' # TODO %s: pending fix' % name, diag)


def tap_skip(msg):
    global tap_n
    tap_n += 1
    print('ok %d - # SKIP %s' % (tap_n, msg))
    sys.stdout.flush()


def diag(msg):
    print('# ' + msg)
    sys.stdout.flush()


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


rng = random.Random(SEED)
T = tempfile.mkdtemp(prefix='scales-chaos.')
D = os.path.join(T, 'segs')
os.mkdir(D, 0o700)
ENV = dict(os.environ, SCALES_DIR=D)
mounted = False

# ------------------------------------------------------------ processes

lock = threading.Lock()
procs = []       # every writer started: dicts (below)
readers_bg = []  # scales-export: stopped by cleanup() if main() fails
deliberate = set()  # pids SIGKILLed on purpose
# True while the file system is full
fill_window = [False]
problems = {'sigbus-full': [], 'signal': [], 'reader': [], 'json': [],
            'http': [], 'monotonic': [], 'copies': [], 'shared': []}


def problem(kind, msg):
    with lock:
        if len(problems[kind]) < 50:
            problems[kind].append(msg)


def spawn(name, argv, stdin=subprocess.DEVNULL, stdout=None, pass_fds=()):
    log = open(os.path.join(T, '%s.%d.log' % (name, len(procs))), 'wb')
    p = subprocess.Popen(argv, stdin=stdin,
                         stdout=stdout if stdout else log, stderr=log,
                         env=ENV, cwd=T, pass_fds=pass_fds)
    rec = {'name': name, 'p': p, 'log': log.name, 'fill': fill_window[0]}
    with lock:
        procs.append(rec)
    return rec


def kill9(rec):
    p = rec['p']
    if p.poll() is None:
        with lock:
            deliberate.add(p.pid)
        p.send_signal(signal.SIGKILL)
    p.wait()


def read_line(p, timeout=30):
    """One line of p's stdout (a pipe), or None after timeout / EOF."""
    import select
    end = time.time() + timeout
    buf = b''
    fd = p.stdout.fileno()
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            continue
        ch = os.read(fd, 1)
        if not ch:
            return None
        if ch == b'\n':
            return buf.decode('utf-8', 'replace')
        buf += ch
    return None


SERVER_PORT = free_port()


def start_server():
    rec = spawn('demo-server', [SERVER, '-p', str(SERVER_PORT), '-w', '4'],
                stdout=subprocess.PIPE)
    for _ in range(2):
        line = read_line(rec['p'], 10)
        if line == 'ready':
            break
    # the rest of its stdout is never read: it prints nothing more
    return rec


def start_load():
    return spawn('demo-load', [LOAD, '-p', str(SERVER_PORT), '-c', '4',
                               '-r', '200'])


def start_grow():
    # its stdin stays open (a pipe never written): EOF would stop it
    rec = spawn('chaosgrow', [GROW], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE)
    read_line(rec['p'], 10)
    return rec


def start_killwriter():
    # kill mode acknowledges on fd 3: give it /dev/null there
    return spawn('hardkill', ['/bin/sh', '-c', 'exec "$0" kill 3>/dev/null',
                              HW])


# ------------------------------------------------------------- carbon

W = os.path.join(T, 'storage', 'whisper')
carbon = None
carbon_port = free_port()


def start_carbon():
    global carbon
    if not (os.access(CARBON, os.X_OK) and os.access(FETCH, os.X_OK)):
        return 'graphite-carbon or python3-whisper not installed'
    os.makedirs(os.path.join(T, 'conf'))
    os.makedirs(os.path.join(T, 'storage'))
    with open(os.path.join(T, 'conf', 'carbon.conf'), 'w') as f:
        f.write('''[cache]
STORAGE_DIR = {t}/storage
LOCAL_DATA_DIR = {w}
WHITELISTS_DIR = {t}/storage/lists
LOG_DIR = {t}/storage/log
PID_DIR = {t}/storage
ENABLE_LOGROTATION = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = {lp}
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = {pp}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = {qp}
ENABLE_MANHOLE = False
LOG_UPDATES = False
ENABLE_TAGS = False
WHISPER_AUTOFLUSH = False
'''.format(t=T, w=W, lp=carbon_port, pp=free_port(), qp=free_port()))
    with open(os.path.join(T, 'conf', 'storage-schemas.conf'), 'w') as f:
        f.write('[all]\npattern = .*\nretentions = 1s:1h\n')
    log = open(os.path.join(T, 'carbon.log'), 'wb')
    carbon = subprocess.Popen(
        [PY, CARBON, '--config=%s/conf/carbon.conf' % T, '--debug',
         'start'], cwd=T, stdout=log, stderr=log,
        stdin=subprocess.DEVNULL, env=dict(os.environ, GRAPHITE_ROOT=T))
    for _ in range(300):
        try:
            socket.create_connection(('127.0.0.1', carbon_port), 1).close()
            return None
        except OSError:
            if carbon.poll() is not None:
                return 'carbon-cache exited: ' + tail(log.name)
            time.sleep(0.1)
    return 'carbon-cache did not listen: ' + tail(log.name)


def tail(path, n=20):
    try:
        with open(path, 'rb') as f:
            return b'\n'.join(f.read().splitlines()[-n:]).decode(
                'utf-8', 'replace')
    except OSError as e:
        return str(e)


def whisper_last(path):
    """The last (timestamp, value) in a whisper file, or None."""
    if not os.path.exists(path):
        return None
    r = subprocess.run([FETCH, '--from=%d' % (time.time() - 600), path],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    last = None
    for line in r.stdout.decode().splitlines():
        ts, v = line.split()
        if v != 'None':
            last = (int(ts), float(v))
    return last


# ------------------------------------------------------------- readers

# The one message a reader may print on stderr while it runs: a planted
# item (or a segment that vanished or is being replaced) skipped, one line.
WARN_RE = re.compile(r'^scales-(top|export): warning: skipping ' +
                     re.escape(D) + r'/[^/\n]+: .+$')
stop_readers = threading.Event()
reader_runs = {'top1': 0, 'topj': 0, 'gc': 0, 'metrics': 0}


def check_stderr(tool, err):
    for line in err.decode('utf-8', 'replace').splitlines():
        if not WARN_RE.match(line):
            problem('reader', '%s: stderr [%s]' % (tool, line[:300]))


def run_reader(tool, argv, timeout=60):
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=ENV, timeout=timeout)
    except subprocess.TimeoutExpired:
        problem('reader', '%s: no answer in %d s' % (tool, timeout))
        return None
    if r.returncode < 0:
        problem('signal', '%s died by signal %d' % (tool, -r.returncode))
    elif r.returncode != 0:
        problem('reader', '%s: exit %d: %s' % (
            tool, r.returncode, r.stderr[-300:].decode('utf-8', 'replace')))
    check_stderr(tool, r.stderr)
    return r


survivor = {}
last_total = {'top': 0, 'metrics': 0}


def survivor_procs(doc):
    return [p for p in doc.get('processes', []) if p.get('app') == 'hardload'
            and p.get('alive')]


def loop_top1():
    while not stop_readers.is_set():
        run_reader('scales-top -1', [TOP, '-1'])
        reader_runs['top1'] += 1
        time.sleep(rng.uniform(0.05, 0.3))


def loop_topj():
    while not stop_readers.is_set():
        r = run_reader('scales-top -j', [TOP, '-j'])
        reader_runs['topj'] += 1
        if r is not None and r.returncode == 0:
            try:
                doc = json.loads(r.stdout)
            except ValueError as e:
                problem('json', 'scales-top -j: %s' % e)
                doc = {}
            live = survivor_procs(doc)
            if len(live) != 1:
                problem('copies', 'scales-top -j: %d live hardload '
                        'processes: %s' % (len(live), [
                            p.get('segment') for p in live]))
            for p in live:
                if p.get('segment') != survivor.get('path'):
                    continue
                v = p['metrics'].get('/w/total', {}).get('value')
                if v is None:
                    problem('monotonic', 'scales-top -j: no /w/total')
                elif v < last_total['top']:
                    problem('monotonic', '/w/total went down: %d -> %d' %
                            (last_total['top'], v))
                else:
                    last_total['top'] = v
        time.sleep(rng.uniform(0.05, 0.3))


# hard-writer's shared mode (test/hardening/workload.h): acks on fd 3
ACK_CHILD_PID = 0xfffffffe
ACK_FINAL = 0xfffffffd
ACK_FINAL_ERR = 0xfffffffc
KILL_FINAL = 20
shared_cycles = [0]


def shared_cycle():
    """A writer and its forked child share a segment; the child is
    SIGKILLed at a random moment (maybe inside a registration), then the
    parent registers KILL_FINAL counters /k/final<i> = i: every one must be
    visible (issue 13 item 6: a slot the child left half-published made
    the next stat invisible)."""
    import struct
    r, w = os.pipe()
    # bash: dash takes no fd above 9 in a redirection
    rec = spawn('hardshared', ['/bin/bash', '-c', 'exec "$0" shared 3>&%d' % w,
                               HW], stdin=subprocess.PIPE, pass_fds=(w,))
    os.close(w)
    p = rec['p']
    # a cycle that met the full file system may fail to register
    # (hard-writer then exits 3): no finding
    spoiled = len(problems['shared'])
    acks = {'child': None, 'final': None, 'err': []}
    got = threading.Event()

    def drain():
        buf = b''
        while True:
            try:
                chunk = os.read(r, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 16:
                idx, _, total = struct.unpack('=IIQ', buf[:16])
                buf = buf[16:]
                if idx == ACK_CHILD_PID:
                    acks['child'] = total
                    got.set()
                elif idx == ACK_FINAL:
                    acks['final'] = total
                    got.set()
                elif idx == ACK_FINAL_ERR:
                    acks['err'].append(total)
        os.close(r)
    t = threading.Thread(target=drain, daemon=True)
    t.start()
    try:
        if not got.wait(10) or acks['child'] is None:
            problem('shared', 'hard-writer shared: no child pid')
            return
        got.clear()
        time.sleep(rng.uniform(0, 0.2))
        try:
            os.kill(acks['child'], signal.SIGKILL)
        except ProcessLookupError:
            problem('shared', 'the forked child died before the kill')
        p.stdin.write(b'go on\n')
        p.stdin.flush()
        if not got.wait(30) or acks['final'] is None:
            problem('shared', 'hard-writer shared: no final ack: %s' %
                    tail(rec['log'], 3))
            return
        if acks['final'] != KILL_FINAL:
            problem('shared', '%d of %d registrations after the kill '
                    'succeeded (errors %s)' % (acks['final'], KILL_FINAL,
                                               acks['err']))
        segs = [os.path.join(D, n) for n in os.listdir(D)
                if n.startswith('hardkill.%d.' % p.pid) and
                n.endswith('.seg')]
        if len(segs) != 1:
            problem('shared', 'segments of pid %d: %s' % (p.pid, segs))
            return
        out = run_reader('scales-top -j', [TOP, '-j', segs[0]])
        try:
            m = json.loads(out.stdout)['processes'][0]['metrics']
        except (ValueError, IndexError, KeyError, AttributeError) as e:
            problem('shared', 'scales-top -j %s: %s' % (segs[0], e))
            return
        bad = ['/k/final%d' % i for i in range(KILL_FINAL)
               if m.get('/k/final%d' % i, {}).get('value') != i]
        if bad:
            problem('shared', 'after the child was killed, not visible '
                    'with their values: %s' % bad)
    finally:
        if rec['fill']:
            with lock:
                del problems['shared'][spoiled:]
        try:
            p.stdin.close()  # EOF: the parent closes its registry
        except OSError:
            pass
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            kill9(rec)
        t.join(10)
        shared_cycles[0] += 1


def loop_shared():
    while not stop_readers.is_set() and not stop_shared.is_set():
        if fill_window[0]:
            time.sleep(0.1)
            continue
        shared_cycle()
        time.sleep(rng.uniform(0.1, 0.5))


stop_shared = threading.Event()


def loop_gc():
    while not stop_readers.is_set():
        time.sleep(rng.uniform(2, 5))
        run_reader('scales-top --gc', [TOP, '--gc'])
        reader_runs['gc'] += 1


HTTP_PORT = free_port()
started = time.time()  # when scales-export started


# A stalled server (slow clients holding every connection) never answers;
# a loaded machine (2 cores shared with the sanitizer run of this suite)
# answers late. 30 s tells the two apart without timing anything.
def get_metrics(timeout=30):
    try:
        with urllib.request.urlopen('http://127.0.0.1:%d/metrics' %
                                    HTTP_PORT, timeout=timeout) as r:
            if r.status != 200:
                problem('http', '/metrics: status %d' % r.status)
                return None
            return r.read().decode('utf-8', 'replace')
    except Exception as e:  # any failure to answer is the finding
        problem('http', '/metrics: %s' % e)
        return None


SLOW_CLIENTS = 200
slow_open = [0]


def loop_slowloris():
    """SLOW_CLIENTS connections from 10 other loopback addresses, each
    trickling a header line every 2 s and never ending its request, while
    /metrics is polled from 127.0.0.1 (issue 13 item 17)."""
    conns = [None] * SLOW_CLIENTS
    while not stop_readers.is_set():
        for i in range(SLOW_CLIENTS):
            c = conns[i]
            try:
                if c is None:
                    c = socket.socket()
                    c.settimeout(1)
                    c.bind(('127.0.0.%d' % (2 + i % 10), 0))
                    c.connect(('127.0.0.1', HTTP_PORT))
                    c.sendall(b'GET /metrics HTTP/1.1\r\nHost: x\r\n')
                    conns[i] = c
                else:
                    c.sendall(b'X-Slow: %d\r\n' % i)
            except OSError:
                if c is not None:
                    c.close()
                conns[i] = None
        slow_open[0] = max(slow_open[0], sum(c is not None for c in conns))
        stop_readers.wait(2)
    for c in conns:
        if c is not None:
            c.close()


def prom_families(text):
    """{path: {(labels...): value}} from # HELP lines naming the path."""
    fam_path = {}
    out = {}
    for line in text.splitlines():
        if line.startswith('# HELP '):
            name, _, rest = line[7:].partition(' ')
            m = re.search(r'\((/[^()]*)\)$', rest) or \
                re.search(r'^scales \S+ (/\S*)$', rest)
            if m:
                fam_path[name] = m.group(1)
            continue
        if not line or line.startswith('#'):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$', line)
        if not m:
            continue
        name, labels, value = m.group(1), m.group(2) or '', m.group(3)
        base = name
        for suf in ('_bucket', '_sum', '_count'):
            if base not in fam_path and base.endswith(suf):
                base = base[:-len(suf)]
        if base not in fam_path:
            continue
        out.setdefault(expand_labels(fam_path[base], labels),
                       {})[(name, labels)] = value
    return out


def expand_labels(path, labels):
    """A labelled family's # HELP path (/endpoint/<endpoint>/latency) made
    the sample's own path with its label values (docs/http.md)."""
    if '<' not in path:
        return path
    vals = {k: re.sub(r'\\(.)', lambda m: '\n' if m.group(1) == 'n'
                      else m.group(1), v)
            for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels)}
    return re.sub(r'<(\w+)>', lambda m: vals.get(m.group(1), m.group(0)),
                  path)


def loop_metrics():
    while not stop_readers.is_set():
        text = get_metrics()
        reader_runs['metrics'] += 1
        if text is not None:
            fams = prom_families(text)
            vals = [float(v) for (n, l), v in
                    fams.get('/w/total', {}).items()
                    if 'app="hardload"' in l]
            if len(vals) != 1:
                problem('http', '/metrics: /w/total of hardload: %s' % vals)
            elif vals[0] < last_total['metrics']:
                problem('monotonic', '/metrics /w/total went down')
            else:
                last_total['metrics'] = vals[0]
        time.sleep(rng.uniform(0.1, 0.5))


# ---------------------------------------------------------------- junk

junk_names = set()


def live_segments():
    out = []
    for n in os.listdir(D):
        if n.endswith('.seg') and not n.startswith('.'):
            p = os.path.join(D, n)
            if os.path.isfile(p) and not os.path.islink(p):
                out.append(p)
    return out


KINDS = ['random', 'truncated', 'copy', 'fifo', 'dir', 'symlink', 'mode0']


def plant(kind=None, src=None):
    kind = kind or rng.choice(KINDS + ['copy'])
    fake = rng.randrange(4000000, 4100000)  # a pid nobody has
    segs = live_segments()
    src = src or (rng.choice(segs) if segs else None)
    app = os.path.basename(src).split('.')[0] if src else 'junk'
    name = '%s.%d.%d.seg' % (app, fake, rng.randrange(1, 1 << 30))
    path = os.path.join(D, name)
    try:
        if kind == 'random':
            with open(path, 'wb') as f:
                f.write(os.urandom(rng.choice([0, 17, 4096, 70000])))
        elif kind in ('truncated', 'copy') and src:
            cmd = ['cp', src, path]
            subprocess.run(cmd, stderr=subprocess.DEVNULL)
            if kind == 'truncated' and os.path.exists(path):
                size = os.path.getsize(path)
                os.truncate(path, rng.randrange(0, max(size, 1)))
        elif kind == 'fifo':
            os.mkfifo(path)
        elif kind == 'dir':
            os.mkdir(path)
        elif kind == 'symlink' and src:
            os.symlink(src, path)
        elif kind == 'mode0':
            with open(path, 'wb') as f:
                f.write(os.urandom(100))
            os.chmod(path, 0)
    except OSError:
        pass  # a full file system: nothing planted
    junk_names.add(name)
    return kind


# ------------------------------------------------------------- full fs

def fill_fs(path, quiet=False):
    """Fills D to the last byte (appending to PATH); returns whether a
    write failed with ENOSPC."""
    st = os.statvfs(D)
    sizes = sorted((os.lstat(os.path.join(D, n)).st_blocks * 512, n)
                   for n in os.listdir(D))
    if not quiet:
        diag('before the fill: %d entries, %d KiB used, %d KiB free, %d inodes '
         'free; largest: %s' % (len(sizes), sum(s for s, n in sizes) >> 10,
                                st.f_bavail * st.f_frsize >> 10, st.f_favail,
                                sizes[-3:]))
    full = False
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 20, 4096, 1):  # big writes, then to the byte
            while True:
                try:
                    if os.write(fd, b'\0' * size) < size:
                        break
                except OSError as e:
                    full = e.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)
    return full


# ================================================================ main

def main():
    global mounted, started
    for exe in (SERVER, LOAD, HW, GROW, TOP, EXPORT):
        if not os.access(exe, os.X_OK):
            print('1..0 # SKIP %s is not built' % exe)
            return 0
    print('1..14')
    diag('seed %d (SCALES_HARD_SEED=%d repeats it), %g s of chaos, '
         'directory %s' % (SEED, SEED, SECONDS, D))

    # a small tmpfs, to fill later
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=48m,mode=0700',
                        'scales-chaos', D], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    mounted = r.returncode == 0
    mount_msg = r.stdout.decode('utf-8', 'replace').strip()

    err = start_carbon()
    if err:
        tap(False, 'carbon-cache', [err])
        return 1
    tap(True, 'carbon-cache listens on 127.0.0.1:%d' % carbon_port)

    # the survivor
    sv = spawn('hardload', [HW, 'load'], stdin=subprocess.PIPE,
               stdout=subprocess.PIPE)
    line = read_line(sv['p'], 30)
    if not line or not line.startswith('ready '):
        tap(False, 'the survivor hard-writer started', [line, tail(sv['log'])])
        return 1
    survivor['rec'] = sv
    survivor['path'] = line[6:]
    survivor['pid'] = sv['p'].pid

    server = start_server()
    load = start_load()
    killers = [start_killwriter(), start_killwriter()]
    grow = start_grow()

    xlog = open(os.path.join(T, 'export.err'), 'wb')
    export = subprocess.Popen(
        [EXPORT, '--graphite', '127.0.0.1:%d' % carbon_port] +
        (['--http', '127.0.0.1:%d' % HTTP_PORT] if HTTP else []) +
        ['--period', '1', '--prefix', 'chaos', '--timeout', '5',
         '--backoff-max', '1', '--quiet'],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=xlog,
        env=ENV)
    readers_bg.append(export)
    for _ in range(100 if HTTP else 0):
        try:
            socket.create_connection(('127.0.0.1', HTTP_PORT), 1).close()
            break
        except OSError:
            time.sleep(0.1)

    threads = [threading.Thread(target=f, daemon=True) for f in
               (loop_top1, loop_topj, loop_gc, loop_shared) +
               ((loop_metrics, loop_slowloris) if HTTP else ())]
    for t in threads:
        t.start()

    # ------------------------------------------------------------ chaos
    started = time.time()
    counts = {'server': 0, 'load': 0, 'hardkill': 0, 'grow': 0,
              'plant': 0}
    planted = {}
    t0 = time.time()
    fill_at = t0 + SECONDS * rng.uniform(0.3, 0.5)
    fill_for = min(6.0, SECONDS / 5)
    filler = None
    filled = None
    # one of each kind first, and copies of the survivor
    for k in KINDS + ['copy', 'truncated']:
        plant(k, survivor['path'])
        planted[k] = planted.get(k, 0) + 1
    while time.time() - t0 < SECONDS:
        now = time.time()
        if mounted and filler is None and filled is None and now >= fill_at:
            # while it is full: a demo-load that registered its stats
            # before meets its first replies (new dict keys: new strings),
            # a writer's string area grows into untouched pages, and a
            # demo-server starts
            kill9(server)
            kill9(load)
            kill9(grow)
            load = start_load()
            grow = start_grow()
            time.sleep(0.3)
            # every writer alive from here on may meet the full file
            # system (marked before the fill: one may die of it during)
            fill_window[0] = True
            for rec in procs:
                if rec['p'].poll() is None:
                    rec['fill'] = True
            filler = os.path.join(D, 'fill.0.0.junk')
            full = fill_fs(filler)
            server = start_server()
            filled = (now, full)
            st = os.statvfs(D)
            diag('file system full (ENOSPC %s, %d bytes free) for %.1f s' %
                 (full, st.f_bavail * st.f_frsize, fill_for))
        elif filler:
            # what a --gc or a writer freed meanwhile: full again
            fill_fs(filler, quiet=True)
        if filler and now >= filled[0] + fill_for:
            os.unlink(filler)
            filler = None
            fill_window[0] = False
        a = rng.random()
        if a < 0.08:
            kill9(server)
            server = start_server()
            counts['server'] += 1
        elif a < 0.16:
            kill9(load)
            load = start_load()
            counts['load'] += 1
        elif a < 0.2:
            kill9(grow)
            grow = start_grow()
            counts['grow'] += 1
        elif a < 0.45:
            i = rng.randrange(len(killers))
            kill9(killers[i])
            killers[i] = start_killwriter()
            counts['hardkill'] += 1
        elif a < 0.65:
            k = plant()
            planted[k] = planted.get(k, 0) + 1
            counts['plant'] += 1
        time.sleep(rng.uniform(0.02, 0.25))
    if filler:
        os.unlink(filler)
        fill_window[0] = False
    # the last demo-server and demo-load start on a file system with room
    kill9(server)
    kill9(load)
    server = start_server()
    load = start_load()
    time.sleep(1)
    diag('kills and restarts: demo-server %d, demo-load %d, grow-writer %d, '
         'hard-writer kill %d; planted %d (%s)' % (
             counts['server'], counts['load'], counts['grow'],
             counts['hardkill'],
             counts['plant'], ', '.join('%s %d' % kv for kv in
                                        sorted(planted.items()))))

    # ------------------------------------------------------------- end
    # the victims stop being killed; the survivor stops counting
    for k in killers:
        kill9(k)
    grow['p'].stdin.close()
    sv['p'].stdin.write(b'stop\n')
    sv['p'].stdin.flush()
    result = {'count': {}}
    while True:
        line = read_line(sv['p'], 60)
        if line is None or line == 'done':
            break
        f = line.split()
        if f[0] == 'count':
            result['count'][int(f[1])] = int(f[2])
        elif f[0] in ('total', 'errors'):
            result[f[0]] = int(f[1])
    ok = line == 'done' and len(result['count']) == LOAD_THREADS
    tap(ok, 'the survivor counted %s updates (%s errors)' % (
        result.get('total'), result.get('errors')),
        [] if ok else [tail(sv['log'])])
    total = result.get('total', -1)

    # wait for carbon to hold the final totals (a period or two, then
    # carbon's cache writes them)
    deadline = time.time() + 30
    got = {}
    want = {'w/total': total}
    for k, n in result['count'].items():
        want['w/t%d' % k] = n
    while time.time() < deadline:
        got = {}
        for k in want:
            last = whisper_last(os.path.join(W, 'chaos', 'hardload',
                                             *k.split('/')) + '.wsp')
            got[k] = last[1] if last else None
        if all(got[k] == want[k] for k in want):
            break
        time.sleep(0.5)
    bad = ['%s: carbon %s, counted %s' % (k, got.get(k), want[k])
           for k in sorted(want) if got.get(k) != want[k]]
    tap(not bad, "carbon's last values of chaos.hardload.w.total and "
        "w.t0..t7 equal the survivor's counts", bad)

    # visibility of every live stat of every survivor
    expect = expected_survivor(result)
    time.sleep(1.5)  # a sampling period of the exporter past the stop
    r = run_reader('scales-top -j', [TOP, '-j'])
    doc = json.loads(r.stdout) if r and r.returncode == 0 else {}
    procs_j = doc.get('processes', [])
    mine = [p for p in procs_j if p.get('segment') == survivor['path']]
    bad = []
    if len(mine) != 1:
        bad.append('%d entries for the survivor segment' % len(mine))
    else:
        m = mine[0]['metrics']
        for path, v in sorted(expect.items()):
            got = m.get(path)
            if got is None:
                bad.append('%s missing' % path)
            elif v is not None and got.get('value', got.get('count')) != v:
                bad.append('%s = %s, want %s' % (
                    path, got.get('value', got.get('count')), v))
        extra = [p for p in m if p not in expect and
                 not p.startswith('/w/state/')]
        if extra:
            bad.append('unexpected: %s' % extra[:5])
    tap(not bad, 'scales-top -j: every live stat of the survivor (%d), '
        'with its exact value' % len(expect), bad)

    # the other survivors: the last demo-server and demo-load, and
    # scales-export itself
    bad = []
    for rec, paths in ((server, SERVER_STATS), (load, LOAD_STATS)):
        pid = rec['p'].pid
        ps = [p for p in procs_j if p.get('pid') == pid and p.get('alive')
              and p.get('segment', '').startswith(
                  os.path.join(D, '%s.%d.' % (rec['name'], pid)))]
        if len(ps) != 1:
            bad.append('%s (pid %d): %d live entries' % (rec['name'], pid,
                                                         len(ps)))
            continue
        missing = [q for q in paths if q not in ps[0]['metrics']]
        if missing:
            bad.append('%s: missing %s' % (rec['name'], missing))
    tap(not bad, 'scales-top -j: the documented stats of the last '
        'demo-server and demo-load', bad)

    if HTTP:
        bad = metrics_visibility(expect, server, load)
        tap(not bad, '/metrics: every live stat of the survivors, the '
            "survivor's with its exact value", bad)
    else:
        tap_skip('scales-export built without --http: no /metrics')

    # ------------------------------------------------------------ stop
    stop_readers.set()
    for t in threads:
        t.join(120)
    export.send_signal(signal.SIGTERM)
    try:
        xrc = export.wait(30)
    except subprocess.TimeoutExpired:
        export.kill()
        xrc = export.wait()
    xlog.close()
    mhd = 0
    for line in open(xlog.name, 'rb').read().decode(
            'utf-8', 'replace').splitlines():
        # libmicrohttpd's messages about clients (the slow ones) are
        # documented, at most 10 a minute (docs/http.md)
        if line.startswith('scales-export: http: '):
            mhd += 1
        elif not WARN_RE.match(line):
            problem('reader', 'scales-export: stderr [%s]' % line[:300])
    minutes = (time.time() - started) / 60
    if mhd > 10 * (int(minutes) + 1):
        problem('reader', 'scales-export: %d http messages in %.1f minutes'
                % (mhd, minutes))
    if xrc != 0:
        problem('signal' if xrc < 0 else 'reader',
                'scales-export: exit %d' % xrc)
    for rec in (server, load):
        rec['p'].send_signal(signal.SIGTERM)
    sv['p'].stdin.close()
    for rec in procs:
        try:
            rc = rec['p'].wait(30)
        except subprocess.TimeoutExpired:
            problem('signal', '%s (pid %d) did not stop' % (
                rec['name'], rec['p'].pid))
            kill9(rec)
            continue
        if rc == -signal.SIGBUS and rec['fill'] and \
                rec['p'].pid not in deliberate:
            problem('sigbus-full', '%s (pid %d) died by SIGBUS on the full '
                    'file system: %s' % (rec['name'], rec['p'].pid,
                                         tail(rec['log'], 3)))
        elif rc < 0 and rec['p'].pid not in deliberate:
            problem('signal', '%s (pid %d) died by signal %d: %s' % (
                rec['name'], rec['p'].pid, -rc, tail(rec['log'], 3)))

    tap(not problems['signal'], 'no process died by a signal but the '
        'deliberate SIGKILLs (apart from SIGBUS on the full file system)',
        problems['signal'])
    if mounted:
        # issue 13 item 1 (fixed in ba3ec56): grow-writer died so
        tap(not problems['sigbus-full'], 'no writer died by SIGBUS on the '
            'full file system', problems['sigbus-full'])
    else:
        tap_skip('no tmpfs to fill: SIGBUS on a full file system not tried')
    diag('reader runs: scales-top -1 %(top1)d, -j %(topj)d, --gc %(gc)d, '
         '/metrics %(metrics)d' % reader_runs)
    tap(not problems['reader'] and not problems['json'],
        'no reader error (exit status, stderr other than one-line skip '
        'warnings, invalid JSON)', problems['reader'] + problems['json'])
    if HTTP:
        tap(not problems['http'], '/metrics answered every poll with the '
            "survivor's total, with up to %d slow clients connected" %
            slow_open[0], problems['http'])
    else:
        tap_skip('scales-export built without --http: no /metrics')
    tap(not problems['monotonic'], "the survivor's total never went down "
        'in scales-top -j or /metrics', problems['monotonic'])
    tap(not problems['shared'] and shared_cycles[0] > 0,
        'after %d forked children sharing a segment were SIGKILLed, every '
        'stat their parents registered next was visible' % shared_cycles[0],
        problems['shared'])
    # issue 13 item 10 (fixed in 565c1a5): copies were live processes
    tap(not problems['copies'], 'no copy of a segment showed as a live '
        'process in scales-top -j', problems['copies'])
    if mounted:
        tap(filled is not None and filled[1],
            'the tmpfs was full (a write failed with ENOSPC) for %.1f s' %
            fill_for)
    else:
        tap_skip('no tmpfs to fill (mount: %s)' % (mount_msg or 'refused'))
    return 0


def metrics_visibility(expect, server, load):
    """What /metrics lacks of the survivors' live stats, or shows wrong."""
    text = get_metrics() or ''
    fams = prom_families(text)
    bad = []
    for path, v in sorted(expect.items()):
        samples = {k: x for k, x in fams.get(path, {}).items()
                   if 'app="hardload"' in k[1]}
        if not samples:
            bad.append('%s missing' % path)
            continue
        if v is None:
            continue
        vals = [float(x) for (n, l), x in samples.items()
                if not n.endswith(('_bucket', '_sum'))]
        if vals != [float(v)]:
            bad.append('%s = %s, want %s' % (path, vals, v))
    for rec, paths in ((server, SERVER_STATS), (load, LOAD_STATS)):
        app = 'app="%s"' % rec['name']
        missing = [q for q in paths if q in PROM_PATHS and not any(
            app in l for (n, l) in fams.get(q, {}))]
        if missing:
            bad.append('%s: missing %s' % (rec['name'], missing))
    return bad


def expected_survivor(result):
    """The survivor's live stats after "stop": {path: value or None}."""
    e = {'/w/total': result.get('total'), '/w/lat': result.get('total'),
         '/w/state': None}
    for i in range(STOP_PRE):
        e['/w/pre/%d' % i] = i
    for k, n in result['count'].items():
        e['/w/t%d' % k] = n
        # the gauge holds the last multiple of 1024 below n
        e['/w/g%d' % k] = ((n - 1) // 1024) * 1024 if n else None
        regs = (n - 1) // DYN_EVERY + 1 if n else 0
        for j in range(max(0, regs - DYN_KEEP), regs):
            e['/w/dyn/%d/%d' % (k, j)] = j + 1
    return e


SERVER_STATS = ['/server/connections', '/server/open', '/server/bytes_in',
                '/server/bytes_out', '/server/queue', '/server/uptime',
                '/server/status', '/workers/state', '/workers/handled'] + [
    '/endpoint/%s/%s' % (e, s) for e in ('home', 'search', 'slow', 'error')
    for s in ('requests', 'latency')] + [
    '/workers/worker-%d/%s' % (i, s) for i in range(4)
    for s in ('state', 'handled')]
LOAD_STATS = ['/load/sent', '/load/failed', '/load/latency', '/load/replies']
# the paths /metrics names in a HELP line (a dict or a state with no value
# yet may have no sample)
PROM_PATHS = set(SERVER_STATS + LOAD_STATS) - {'/workers/state'}


def cleanup():
    stop_readers.set()
    for p in readers_bg:
        if p.poll() is None:
            p.kill()
            p.wait()
    for rec in procs:
        if rec['p'].poll() is None:
            rec['p'].kill()
            rec['p'].wait()
    if carbon is not None and carbon.poll() is None:
        carbon.terminate()
        try:
            carbon.wait(20)
        except subprocess.TimeoutExpired:
            carbon.kill()
    if mounted:
        subprocess.run(['umount', '-l', D])
    if os.environ.get('SCALES_CHAOS_KEEP') != '1':
        shutil.rmtree(T, ignore_errors=True)
    else:
        diag('kept %s' % T)


if __name__ == '__main__':
    try:
        rc = main()
    finally:
        cleanup()
    sys.exit(rc)
