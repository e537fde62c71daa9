#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The Python module side by side, in one run (ns per operation; the
fastest of 7 rounds, each a timeit loop):

  scales (greplin.scales on the segment)   prometheus_client
  IntStat += 1                             Counter.inc()
  PmfStat record (obj.stat = v)            Histogram.observe(v)
  with obj.stat.time(): pass               with Histogram.time(): pass

and, as the floor, `obj.attr += 1` on a plain attribute. With
SCALES_SEED_PATH set to a directory from which the seed's greplin.scales
imports (a checkout's src/), the seed's IntStat, PmfStat and time() are
measured in a child process, its rounds interleaved with ours. docs/performance.md has the
figures. No target is asserted: it prints.
"""
import json
import os
import subprocess
import sys
import tempfile
import timeit

ROUNDS = 7


STMTS = {
    'IntStat += 1': 'h.requests += 1',
    'PmfStat record': 'h.latency = 0.001',
    'with time()': 'with h.latency.time(): pass',
}
PROM_STMTS = {
    'IntStat += 1': 'c.inc()',
    'PmfStat record': 'h.observe(0.001)',
    'with time()': 'with h.time(): pass',
}

SETUP = '''
from greplin import scales
class Handler(object):
  requests = scales.IntStat('requests')
  latency = scales.PmfStat('latency')
  def __init__(self):
    scales.init(self, '/bench')
h = Handler()
h.requests += 1
h.latency = 0.001
'''

# The seed's greplin.scales cannot share a process with ours: a child
# process imports it and times one round of a statement per request, so
# that its rounds interleave with ours (the machine's load then weighs on
# both alike).
SEED_CHILD = SETUP + '''
import sys, timeit
for line in sys.stdin:
  n, stmt = line.rstrip('\\n').split(' ', 1)
  n = int(n)
  print(timeit.Timer(stmt, globals=globals()).timeit(n) / n * 1e9, flush=True)
'''


def one_round(stmt, env, number):
  return timeit.Timer(stmt, globals=env).timeit(number) / number * 1e9


def prometheus_env():
  try:
    import prometheus_client as pc
  except ImportError:
    return None
  reg = pc.CollectorRegistry()
  return {'c': pc.Counter('bench_requests', 'requests', registry=reg),
          'h': pc.Histogram('bench_latency_seconds', 'latency', registry=reg)}


def seed_child():
  path = os.environ.get('SCALES_SEED_PATH')
  if not path:
    return None
  return subprocess.Popen([sys.executable, '-c', SEED_CHILD],
                          env=dict(os.environ, PYTHONPATH=path),
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True)


def run(number):
  """Fastest of ROUNDS rounds per operation and library, interleaved."""
  ours = {}
  exec(SETUP, ours)  # pylint: disable=exec-used
  prom = prometheus_env()
  child = seed_child()
  plain = type('Plain', (object,), {})()
  plain.attr = 0
  best = {}

  def keep(key, ns):
    best[key] = min(best.get(key, ns), ns)

  for _ in range(ROUNDS):
    keep(('floor', ''), one_round('p.attr += 1', {'p': plain}, number))
    for op, stmt in STMTS.items():
      n = number // 2 if op == 'with time()' else number
      keep(('scales', op), one_round(stmt, ours, n))
      if prom:
        keep(('prometheus', op), one_round(PROM_STMTS[op], prom, n))
      if child:
        child.stdin.write('%d %s\n' % (max(n // 10, 1000), stmt))
        child.stdin.flush()
        keep(('seed', op), float(child.stdout.readline()))
  if child:
    child.stdin.close()
    child.wait()
  out = {'floor': best[('floor', '')]}
  for lib in ('scales', 'prometheus', 'seed'):
    if (lib, 'IntStat += 1') in best:
      out[lib] = dict((op, best[(lib, op)]) for op in STMTS)
  return out


def main():
  os.environ.setdefault('SCALES_DIR', tempfile.mkdtemp(prefix='scales-pybench-'))
  number = int(os.environ.get('SCALES_PYBENCH_N', '200000'))
  res = run(number)
  base, mine = res['floor'], res['scales']
  prom, old = res.get('prometheus'), res.get('seed')
  print('# python_bench: ns per operation, the fastest of %d rounds (%s)'
        % (ROUNDS, sys.version.split()[0]))
  print('plain attribute += 1 (the floor): %.1f ns' % base)
  head = '%-16s %10s' % ('operation', 'scales')
  if prom:
    head += ' %12s %9s' % ('prometheus', 'ratio')
  if old:
    head += ' %10s %9s' % ('seed', 'ratio')
  print(head)
  results = res
  for op in mine:
    line = '%-16s %10.1f' % (op, mine[op])
    if prom:
      line += ' %12.1f %8.1fx' % (prom[op], prom[op] / mine[op])
    if old:
      line += ' %10.1f %8.1fx' % (old[op], old[op] / mine[op])
    print(line)
  print('(ratio: the other library\'s time over scales\'s; prometheus: '
        'Counter.inc, Histogram.observe, Histogram.time)')
  if not old:
    print('seed: not measured (set SCALES_SEED_PATH to a directory from '
          'which the seed\'s greplin.scales imports)')
  out = os.environ.get('SCALES_PYBENCH_JSON')
  if out:
    with open(out, 'w') as f:
      json.dump(results, f, indent=2)


if __name__ == '__main__':
  main()
