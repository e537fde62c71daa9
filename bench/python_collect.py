#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Collecting a pre-forked server's metrics once: scales-export against
prometheus_client's multiprocess collector, at 4 and 64 workers.

Each worker (a forked process) counts 100 requests into a counter, a
status dict of 3 keys and a latency histogram, then exits. prometheus_client
writes them to files per process in PROMETHEUS_MULTIPROC_DIR;
MultiProcessCollector + generate_latest() reads and merges them. With
greplin.scales, the workers add into the segment their parent opened
before forking; `scales-export --stdout -1` (a whole process: start, read,
print) collects it. The fastest of 5 collections each; it prints.
"""
import os
import subprocess
import sys
import tempfile
import time

EXPORT = sys.argv[1] if len(sys.argv) > 1 else 'scales-export'
ROUNDS = 5


def fork_workers(n, work):
  pids = []
  for _ in range(n):
    pid = os.fork()
    if pid == 0:
      try:
        work()
      finally:
        os._exit(0)
    pids.append(pid)
  for pid in pids:
    os.waitpid(pid, 0)


def prometheus(n):
  d = tempfile.mkdtemp(prefix='prom-mp-')
  env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=d)
  code = '''
import os
from prometheus_client import Counter, Histogram
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
import time
req = Counter('app_requests', 'requests')
status = Counter('app_status', 'status', ['code'])
lat = Histogram('app_latency_seconds', 'latency')
def work():
  for i in range(100):
    req.inc(); status.labels(('200', '404', '500')[i %% 3]).inc(); lat.observe(0.001 * i)
pids = []
for _ in range(%d):
  pid = os.fork()
  if pid == 0:
    work(); os._exit(0)
  pids.append(pid)
for p in pids: os.waitpid(p, 0)
best = None
for _ in range(%d):
  t = time.perf_counter()
  reg = CollectorRegistry()
  multiprocess.MultiProcessCollector(reg)
  out = generate_latest(reg)
  dt = time.perf_counter() - t
  best = dt if best is None else min(best, dt)
assert b'app_requests_total %%d.0' %% (100 * %d) in out, out[:300]
print(best)
''' % (n, ROUNDS, n)
  return float(subprocess.run([sys.executable, '-c', code], env=env,
                              capture_output=True, text=True,
                              check=True).stdout)


def scales(n):
  d = tempfile.mkdtemp(prefix='scales-collect-')
  code = '''
import os, sys
from greplin import scales
scales.open(app='collect')
class S(object):
  requests = scales.IntStat('requests')
  status = scales.IntDictStat('status')
  latency = scales.PmfStat('latency')
  def __init__(self): scales.init(self, '/app')
s = S()
def work():
  for i in range(100):
    s.requests += 1; s.status[('200', '404', '500')[i %% 3]] += 1; s.latency = 0.001 * i
pids = []
for _ in range(%d):
  pid = os.fork()
  if pid == 0:
    work(); os._exit(0)
  pids.append(pid)
for p in pids: os.waitpid(p, 0)
sys.stdout.write('ready\\n'); sys.stdout.flush()
sys.stdin.read()
''' % n
  holder = subprocess.Popen([sys.executable, '-c', code],
                            env=dict(os.environ, SCALES_DIR=d),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
  assert holder.stdout.readline() == 'ready\n'
  best = None
  for _ in range(ROUNDS):
    t = time.perf_counter()
    out = subprocess.run([EXPORT, '--stdout', '-1', '-p', '', '-d', d],
                         capture_output=True, text=True, check=True).stdout
    dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
  assert 'collect.app.requests %d ' % (100 * n) in out, out[:300]
  holder.stdin.close()
  holder.wait()
  return best


def main():
  print('# python_collect: collecting every metric once, fastest of %d (ms)'
        % ROUNDS)
  print('%-8s %14s %22s %8s' % ('workers', 'scales-export', 'prometheus multiproc',
                                'ratio'))
  for n in (4, 64):
    s = scales(n) * 1e3
    p = prometheus(n) * 1e3
    print('%-8d %14.2f %22.2f %7.1fx' % (n, s, p, p / s))
  print('(scales-export: a whole process, start to exit; prometheus: '
        'MultiProcessCollector + generate_latest in a warm process)')


if __name__ == '__main__':
  main()
