#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs the seed's own tests (scales_test.py, formats_test.py from
Cue/scales, src/greplin/scales/), unmodified, against greplin.scales.

SCALES_SEED_TESTS names the directory holding them (a checkout's
src/greplin/scales). Without it the test is skipped (exit 77), saying so.
The seed's tests are Python 2: the only help they get is a StringIO module
(io.StringIO) on the path, for formats_test.py's `import StringIO`.
"""
import os
import sys
import tempfile
import unittest

WANTED = ('scales_test', 'formats_test')

seed = os.environ.get('SCALES_SEED_TESTS')
if not seed:
  print('SKIP: set SCALES_SEED_TESTS to a directory holding the seed\'s '
        'scales_test.py and formats_test.py (a checkout of '
        'https://github.com/Cue/scales: src/greplin/scales); see '
        'docs/migrating-from-python-scales.md')
  sys.exit(77)
missing = [m for m in WANTED if not os.path.isfile(os.path.join(seed, m + '.py'))]
if missing:
  print('FAIL: %s not in %s' % (', '.join(m + '.py' for m in missing), seed))
  sys.exit(1)

os.environ.setdefault('SCALES_DIR', tempfile.mkdtemp(prefix='scales-seed-'))
shim = tempfile.mkdtemp(prefix='scales-py2shim-')
with open(os.path.join(shim, 'StringIO.py'), 'w') as f:
  f.write('from io import StringIO  # Python 2 name, for the seed\'s tests\n')
# Only the test modules come from the seed's directory: greplin.scales is
# ours (the directory is appended, after our package on PYTHONPATH).
sys.path.insert(0, shim)
sys.path.append(seed)

suite = unittest.defaultTestLoader.loadTestsFromNames(WANTED)
result = unittest.TextTestRunner(verbosity=2).run(suite)
sys.exit(0 if result.wasSuccessful() and result.testsRun else 1)
