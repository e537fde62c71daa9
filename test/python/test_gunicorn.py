# SPDX-License-Identifier: MIT
"""A real gunicorn, 4 pre-forked workers under load, counted with
greplin.scales (examples/python/wsgi_app.py): scales-top and scales-export
show one app whose totals are exactly the sum of what the workers say they
answered, and a worker killed with SIGKILL and replaced loses nothing."""
import collections
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from conftest import BUILD

GUNICORN = shutil.which('gunicorn')
SRC = os.environ.get('SCALES_SOURCE_ROOT',
                     os.path.join(os.path.dirname(__file__), '..', '..'))
APP = 'wsgi-test'


def _free_port():
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def _get(port):
  conn = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
  try:
    conn.request('GET', '/')
    resp = conn.getresponse()
    assert resp.status == 200
    return json.loads(resp.read())
  finally:
    conn.close()


def _load(port, threads, per_thread, answers):
  lock = threading.Lock()
  errors = []

  def run():
    for _ in range(per_thread):
      try:
        a = _get(port)
      except Exception as e:  # pylint: disable=broad-except
        errors.append(e)
        continue
      with lock:
        answers.append((a['pid'], a['answered']))

  ts = [threading.Thread(target=run) for _ in range(threads)]
  for t in ts:
    t.start()
  for t in ts:
    t.join()
  assert not errors, errors[:3]


def _metrics(segdir):
  out = subprocess.run(
      [os.path.join(BUILD, 'tools', 'scales-top', 'scales-top'), '-j', '-m',
       APP], env=dict(os.environ, SCALES_DIR=segdir), capture_output=True,
      text=True, check=True).stdout
  procs = json.loads(out)['processes']
  assert len(procs) == 1, procs  # one app
  return procs[0]['metrics']


def _export(segdir):
  out = subprocess.run(
      [os.path.join(BUILD, 'tools', 'scales-export', 'scales-export'),
       '--stdout', '-1', '-p', '', '-d', segdir, APP],
      capture_output=True, text=True, check=True).stdout
  return dict((line.split()[0], float(line.split()[1]))
              for line in out.splitlines() if line.strip())


@pytest.mark.skipif(GUNICORN is None, reason='gunicorn is not installed '
                    '(Debian package gunicorn)')
def test_gunicorn_four_workers_exact_totals_and_a_killed_worker():
  segdir = tempfile.mkdtemp(prefix='scales-gunicorn-')
  port = _free_port()
  env = dict(os.environ, SCALES_DIR=segdir, SCALES_APP=APP)
  master = subprocess.Popen(
      [sys.executable, GUNICORN, '--preload', '-w', '4', '-b',
       '127.0.0.1:%d' % port, '--chdir', os.path.join(SRC, 'examples',
                                                       'python'),
       '--graceful-timeout', '5', 'wsgi_app:app'],
      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
  try:
    answers = []  # (pid, that worker's own count) of every response
    for _ in range(300):
      try:
        first = _get(port)
        answers.append((first['pid'], first['answered']))
        break
      except OSError:
        time.sleep(0.1)
    else:
      pytest.fail('gunicorn did not answer: %s' % master.stderr.read1())

    _load(port, 8, 150, answers)
    workers = set(p for p, _ in answers)
    # SIGKILL a worker that has answered, while idle between the phases.
    victim = max(workers, key=lambda p: max(a for q, a in answers if q == p))
    os.kill(victim, signal.SIGKILL)
    # Wait for the master to fork a replacement (4 workers again).
    for _ in range(300):
      kids = subprocess.run(['pgrep', '-P', str(master.pid)],
                            capture_output=True, text=True).stdout.split()
      if len(kids) == 4 and str(victim) not in kids:
        break
      time.sleep(0.1)
    else:
      pytest.fail('gunicorn did not replace worker %d' % victim)
    _load(port, 8, 150, answers)

    # Each worker's own last count; their sum is what was answered.
    last = collections.defaultdict(int)
    for pid, n in answers:
      last[pid] = max(last[pid], n)
    total = sum(last.values())
    assert total == len(answers) == 2401
    assert victim in last and last[victim] > 0
    assert len(last) >= 2  # several workers answered

    m = _metrics(segdir)
    assert m['/app/requests']['value'] == total
    assert m['/app/status/200']['value'] == total
    assert m['/app/latency']['count'] == total
    e = _export(segdir)
    assert e.get(APP + '.app.requests') == total, sorted(e)[:20]
  finally:
    master.send_signal(signal.SIGTERM)
    try:
      master.wait(20)
    except subprocess.TimeoutExpired:
      master.kill()
      master.wait()
    shutil.rmtree(segdir, ignore_errors=True)
