# SPDX-License-Identifier: MIT
"""MeterStat: events and their rates (m1, m5, m15 per second).

The count is a counter in the segment: scales-top and scales-export show
its rates from outside the process. In this process, getStats() ticks the
1, 5 and 15 minute moving averages with the count observed since the
previous tick, every 5 seconds at most (no ticker thread).
"""

import time

from greplin.scales import Stat, _DictBackedStat, _Stats, _join, statsId  # noqa: F401
from greplin.scales.util import EWMA
import _scales


class MeterStatDict(dict):
  """count, m1, m5, m15 and unit of a MeterStat."""

  SEGMENT_KEY = 'count'  # what the segment holds: the counter

  def __init__(self, path):
    dict.__init__(self)
    self._c = _scales.counter(path)
    self._meters = (EWMA.oneMinute(), EWMA.fiveMinute(), EWMA.fifteenMinute())
    self._seen = self._c.get()
    self._tick = time.monotonic()
    dict.__setitem__(self, 'unit', 'per second')
    dict.__setitem__(self, 'count', self._seen)

  def __getitem__(self, item):
    return dict.get(self, item, 0.0)

  def mark(self, value=1):
    """Counts value events."""
    self._c.add(value)

  def tick(self):
    """Folds the events since the last tick into the rates."""
    count = self._c.get()
    for m in self._meters:
      m.update(count - self._seen)
      m.tick()
    self._seen = count
    for name, m in zip(('m1', 'm5', 'm15'), self._meters):
      dict.__setitem__(self, name, m.rate)

  def refresh(self):
    now = time.monotonic()
    while now - self._tick >= EWMA.TICK_RATE:
      self._tick += EWMA.TICK_RATE
      self.tick()
    dict.__setitem__(self, 'count', self._c.get())
    return self


class MeterStat(_DictBackedStat):
  """A stat that meters events: `obj.stat = n` marks n events."""
  DICT_CLASS = MeterStatDict

  def __get__(self, instance, _=None):
    if instance is None:
      return self
    return self._dict(instance)

  def __set__(self, instance, value):
    self._dict(instance).mark(value)
