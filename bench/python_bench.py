#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The Python module side by side, in one run (ns per operation; the
median of 7 rounds, each a timeit loop):

  scales (greplin.scales on the segment)   prometheus_client
  IntStat += 1                             Counter.inc()
  PmfStat record (obj.stat = v)            Histogram.observe(v)
  with obj.stat.time(): pass               with Histogram.time(): pass

and, as the floor, `obj.attr += 1` on a plain attribute. With
SCALES_SEED_PATH set to a directory from which the seed's greplin.scales
imports (a checkout's src/), the seed's IntStat, PmfStat and time() are
measured in a child process in the same run. docs/performance.md has the
figures. No target is asserted: it prints.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import timeit

ROUNDS = 7


def measure(stmt, env, number):
  t = timeit.Timer(stmt, globals=env)
  per = [t.timeit(number) / number * 1e9 for _ in range(ROUNDS)]
  return statistics.median(per)


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


def ours(number):
  env = {}
  exec(SETUP, env)  # pylint: disable=exec-used
  return {
      'IntStat += 1': measure('h.requests += 1', env, number),
      'PmfStat record': measure('h.latency = 0.001', env, number),
      'with time()': measure('with h.latency.time(): pass', env, number // 2),
  }


def floor(number):
  class Plain(object):
    pass
  p = Plain()
  p.attr = 0
  return measure('p.attr += 1', {'p': p}, number)


def prometheus(number):
  try:
    import prometheus_client as pc
  except ImportError:
    return None
  reg = pc.CollectorRegistry()
  c = pc.Counter('bench_requests', 'requests', registry=reg)
  hist = pc.Histogram('bench_latency_seconds', 'latency', registry=reg)
  env = {'c': c, 'h': hist}
  return {
      'IntStat += 1': measure('c.inc()', env, number),
      'PmfStat record': measure('h.observe(0.001)', env, number),
      'with time()': measure('with h.time(): pass', env, number // 2),
  }


def seed(number):
  path = os.environ.get('SCALES_SEED_PATH')
  if not path:
    return None
  code = ('import json, sys\nsys.argv = ["seed"]\n' + SETUP +
          'import timeit, statistics\n'
          'def m(s, n):\n'
          '  t = timeit.Timer(s, globals=globals())\n'
          '  return statistics.median(t.timeit(n) / n * 1e9 for _ in range(%d))\n'
          'print(json.dumps({"IntStat += 1": m("h.requests += 1", %d),'
          ' "PmfStat record": m("h.latency = 0.001", %d),'
          ' "with time()": m("with h.latency.time(): pass", %d)}))\n'
          % (ROUNDS, number, number // 4, number // 4))
  out = subprocess.run([sys.executable, '-c', code],
                       env=dict(os.environ, PYTHONPATH=path),
                       capture_output=True, text=True, check=True).stdout
  return json.loads(out)


def main():
  os.environ.setdefault('SCALES_DIR', tempfile.mkdtemp(prefix='scales-pybench-'))
  number = int(os.environ.get('SCALES_PYBENCH_N', '200000'))
  base = floor(number)
  mine = ours(number)
  prom = prometheus(number)
  old = seed(number // 10)
  print('# python_bench: ns per operation, median of %d rounds (%s)'
        % (ROUNDS, sys.version.split()[0]))
  print('plain attribute += 1 (the floor): %.1f ns' % base)
  head = '%-16s %10s' % ('operation', 'scales')
  if prom:
    head += ' %12s %9s' % ('prometheus', 'ratio')
  if old:
    head += ' %10s %9s' % ('seed', 'ratio')
  print(head)
  results = {'floor': base, 'scales': mine, 'prometheus': prom, 'seed': old}
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
