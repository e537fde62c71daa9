# SPDX-License-Identifier: MIT
"""Helpers the seed's users call: lookup() and EWMA.

The seed's GraphiteReporter is not here: scales-export pushes to Graphite
from outside the process (docs/graphite.md).
"""

import math


def lookup(source, keys, fallback=None):
  """source[k1][k2]... for keys, or fallback when any step is missing."""
  try:
    for key in keys:
      source = source[key]
    return source
  except (KeyError, AttributeError, TypeError, IndexError):
    return fallback


class EWMA(object):
  """An exponentially weighted moving average of a rate per second, ticked
  every `interval` seconds (as in the seed's meters)."""

  TICK_RATE = 5

  def __init__(self, alpha, interval=TICK_RATE):
    self.alpha = alpha
    self.interval = interval
    self.rate = 0.0
    self._pending = 0
    self._initialized = False

  @classmethod
  def oneMinute(cls):
    return cls(1 - math.exp(-cls.TICK_RATE / 60.0))

  @classmethod
  def fiveMinute(cls):
    return cls(1 - math.exp(-cls.TICK_RATE / 300.0))

  @classmethod
  def fifteenMinute(cls):
    return cls(1 - math.exp(-cls.TICK_RATE / 900.0))

  def update(self, value):
    """Counts value more events."""
    self._pending += value

  def tick(self):
    """Folds the events since the last tick into the rate."""
    instant = self._pending / float(self.interval)
    self._pending = 0
    if self._initialized:
      self.rate += self.alpha * (instant - self.rate)
    else:
      self.rate = instant
      self._initialized = True
