# SPDX-License-Identifier: MIT
"""Every test runs with its own segment directory (SCALES_DIR) and its own
freshly reset stats."""
import json
import os
import subprocess
import tempfile

import pytest

_DIR = tempfile.mkdtemp(prefix='scales-py-')
os.environ['SCALES_DIR'] = _DIR
os.environ.setdefault('SCALES_APP', 'pytest-app')

from greplin import scales  # noqa: E402  (after SCALES_DIR is set)

BUILD = os.environ.get('SCALES_BUILD_ROOT',
                       os.path.join(os.path.dirname(__file__), '..', '..',
                                    'build'))
SCALES_TOP = os.path.join(BUILD, 'tools', 'scales-top', 'scales-top')


def read_metrics(merge=False):
  """What scales-top -j (a separate process) sees: {path: metric}, summed
  over this app's live processes."""
  args = [SCALES_TOP, '-j'] + (['-m'] if merge else [])
  out = subprocess.run(args, env=dict(os.environ, SCALES_DIR=_DIR),
                       capture_output=True, text=True, check=True).stdout
  doc = json.loads(out)
  metrics = {}
  for proc in doc.get('processes', doc.get('apps', [])):
    if proc.get('pid') == os.getpid() or merge:
      metrics.update(proc['metrics'])
  return metrics


@pytest.fixture(autouse=True)
def fresh():
  scales.reset()
  yield
