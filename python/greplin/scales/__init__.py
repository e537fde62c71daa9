# SPDX-License-Identifier: MIT
"""The seed's API (greplin.scales) on a libscales shared-memory segment.

Code written for the Python scales library runs unchanged: init, initChild,
initChildOfType, collection, reset, getStats, dumpStatsTo and the stat
classes. Every update also goes into this process's segment, where
scales-top and scales-export read it from outside the process, and where
the workers of a pre-forked server add into the same numbers.

getStats() returns the seed's dictionary shape, built from this process's
stats. docs/migrating-from-python-scales.md lists the differences the
segment forces.
"""

import atexit
import builtins
import collections
import contextlib
import inspect
import itertools
import json
import os
import sys
import threading
import time
import unittest

import _scales
from _scales import ScalesError, PathError

__all__ = ['init', 'initChild', 'initChildOfType', 'collection', 'reset',
           'getStats', 'dumpStatsTo', 'setCollapsed', 'open', 'StatContainer',
           'Stat', 'IntStat', 'DoubleStat', 'IntDictStat', 'StringDictStat',
           'SumAggregationStat', 'HistogramAggregationStat',
           'IntDictSumAggregationStat', 'PmfStat', 'NamedPmfDictStat',
           'StateTimeStat',
           'StatContainerEncoder', 'ScalesError', 'PathError',
           'callableErrors', 'setSampleInterval']

ID_KEY = '__STATS__id'
NEXT_ID = itertools.count()

def _component(name):
  """One path component for name (a stat name, a container or a dict key):
  libscales's own escaping (PathError if name is not UTF-8)."""
  return _scales.component(str(name))


def _join(parent, name):
  _open_once()
  path = parent + '/' + _component(name)
  if len(path.encode('utf-8')) > 255:
    raise PathError('stat path %r is %d bytes long; the segment holds paths '
                    'of at most 255 bytes (docs/migrating-from-python-'
                    'scales.md)' % (path, len(path)))
  return path


def open(app=None, directory=None, keep=False):  # pylint: disable=W0622
  """Opens this process's segment with an application name (the name
  scales-top and scales-export group by; default: $SCALES_APP, else the
  script's name). Call before the first stat; returns the segment's path."""
  if app is None:
    app = os.environ.get('SCALES_APP') or _default_app()
  _opened.append(True)
  return _scales.open(app=app, dir=directory, keep=keep)


def _default_app():
  prog = os.path.basename(sys.argv[0] if sys.argv and sys.argv[0] else '')
  prog = prog[:-3] if prog.endswith('.py') else prog
  return prog or 'python'


_opened = []


def _open_once():
  """Opens the segment with this package's default app name before the
  first stat (an explicit open() comes first)."""
  if not _opened:
    _opened.append(True)
    if not _scales.is_open():
      open()


def statsId(obj):
  """A unique id for each object (kept on the object, as the seed does)."""
  if hasattr(obj, ID_KEY):
    return getattr(obj, ID_KEY)
  newId = next(NEXT_ID)
  setattr(obj, ID_KEY, newId)
  return newId


def init(obj, context=None):
  """Initializes stats collection in obj at the context path (default: the
  root)."""
  return _Stats.init(obj, context)


def initChild(obj, name):
  """Initializes stats collection in obj as a child of the object that
  created it."""
  return _Stats.initChild(obj, name, '')


def initChildOfType(obj, name, subContext=None):
  """As initChild, under name/<subContext> (default: a running number)."""
  return _Stats.initChild(obj, name, subContext)


def reset():
  """Resets all stats: for tests. Retires every stat of the segment."""
  _Stats.reset()


def getStats():
  """The stats dictionary (the seed's shape), refreshed from the segment.
  Callables set in a Stat are sampled into the segment first."""
  _Sampler.sampleAll()
  _Stats.refresh()
  return _Stats.stats


def setCollapsed(path):
  """Displays the container at path collapsed in the HTML and JSON pages."""
  return _Stats.container(path).setCollapsed(True)


class StatContainer(dict):
  """A container of stats; also whether it displays collapsed."""

  def __init__(self, path=''):
    dict.__init__(self)
    self.__collapsed = False
    self._path = path

  def setCollapsed(self, isCollapsed):
    """Sets whether the container displays collapsed by default."""
    self.__collapsed = isCollapsed

  def isCollapsed(self):
    """Whether the container displays collapsed by default."""
    return self.__collapsed

  @property
  def data(self):
    """The seed's containers were UserDicts: .data is the dict itself."""
    return self


class _Stats(object):
  """Process-wide state: the container tree and what feeds it."""

  stats = StatContainer()
  parentMap = {}
  containerMap = {}
  subId = 0
  # (container, name, getter, owner id): refreshed by getStats()
  bindings = []
  # (aggregator instance id, stat name) -> set of values seen (histograms)
  seen = {}

  @classmethod
  def reset(cls):
    cls.stats = StatContainer()
    cls.parentMap = {}
    cls.containerMap = {}
    cls.subId = 0
    cls.bindings = []
    cls.seen = {}
    _Sampler.clear()
    _scales.reset()

  @classmethod
  def init(cls, obj, context):
    addr = statsId(obj)
    if addr not in cls.containerMap:
      container = cls.container(context)
      cls.containerMap[addr] = container
      cls._declare(obj, container)
    return cls.containerMap[addr]

  @classmethod
  def _self(cls, frame):
    return frame.f_locals.get('self', None) if frame else None

  @classmethod
  def initChild(cls, obj, name, subContext, parent=None):
    addr = statsId(obj)
    if addr not in cls.containerMap:
      if parent is None:
        # The parent is the nearest caller whose self is not obj: the
        # object whose method created obj.
        f = inspect.currentframe()
        while f is not None and not cls._self(f):
          f = f.f_back
        this = cls._self(f)
        f = f.f_back if f is not None else None
        while f is not None and (cls._self(f) is this or
                                 not cls._self(f)):
          f = f.f_back
        parent = cls._self(f)
      if subContext is None:
        cls.subId += 1
        subContext = cls.subId
      path = '%s/%s' % (name, subContext) if subContext != '' else name
      cls.parentMap[addr] = parent
      parentContainer = None
      if parent is not None:
        parentContainer = cls.containerMap.get(statsId(parent))
        if parentContainer is None and isinstance(parent, unittest.TestCase):
          parentContainer = cls.init(parent, '/test-case')
      container = cls.container(path, parentContainer)
      cls.containerMap[addr] = container
      cls._declare(obj, container)
    return cls.containerMap[addr]

  @classmethod
  def container(cls, context, parent=None):
    container = cls.stats if parent is None else parent
    if context is not None:
      for key in str(context).lstrip('/').split('/'):
        if key not in container:
          dict.__setitem__(container, key,
                           StatContainer(_join(container._path, key)))
        container = container[key]
    return container

  declared = set()

  @classmethod
  def _declare(cls, obj, container):
    """Declares the aggregates of obj's class in the segment, for readers
    (which sum over direct children: the migration guide says more), and
    has the callables among its class's Stat defaults sampled."""
    for stat in _classStats(type(obj)):
      if type(stat) is Stat and callable(stat._default):
        _Sampler.register(container._path, stat.getName(), stat._default)
    if not container._path:
      return
    for stat in _classStats(type(obj)):
      kind = {SumAggregationStat: 'sum', IntDictSumAggregationStat: 'sum',
              HistogramAggregationStat: 'states'}.get(type(stat))
      key = (container._path, kind, stat.getName())
      if kind and key not in cls.declared:
        cls.declared.add(key)
        try:
          _scales.declare(container._path, kind, _component(stat.getName()))
        except ScalesError:
          pass  # readers miss the aggregate; getStats() still has it

  @classmethod
  def containerFor(cls, instance):
    container = cls.containerMap.get(statsId(instance))
    if container is None:
      raise ScalesError('%r has no stats container: call scales.init() or '
                        'initChild() in its __init__' % (instance,))
    return container

  @classmethod
  def aggregator(cls, instance, name):
    """The nearest ancestor of instance whose class has a stat called
    name, with that stat (the seed's rule)."""
    parent = cls.parentMap.get(statsId(instance))
    while parent is not None:
      for stat in _classStats(type(parent)):
        if stat.getName() == name:
          return stat, parent
      parent = cls.parentMap.get(statsId(parent))
    return None

  @classmethod
  def bind(cls, container, name, getter, instance):
    cls.bindings.append((container, name, getter, instance))

  @classmethod
  def refresh(cls):
    sums = {}
    for container, name, getter, instance in cls.bindings:
      value = getter()
      dict.__setitem__(container, name, value)
      agg = cls.aggregator(instance, name)
      if agg and isinstance(agg[0], (AggregationStat, ChildAggregationStat)):
        key = (statsId(agg[1]), name)
        if key not in sums:
          sums[key] = (agg[0], agg[1], [])
        sums[key][2].append(value)
    for (aggId, name), (stat, owner, values) in sums.items():
      seen = cls.seen.get((aggId, name), ())
      value = stat.combine(values, seen)
      if value is not None:
        dict.__setitem__(cls.containerMap[aggId], name, value)


def _write(handles, key, path, value):
  """Writes value into the segment when it has a form there: a string as a
  state, a number as a double gauge. handles caches the handles by (key,
  kind); path() gives the stat's path."""
  if isinstance(value, str):
    if not value:
      return
    kind, make = 'state', _scales.state
  elif isinstance(value, (int, float)) and not isinstance(value, bool):
    kind, make = 'f64', _scales.gauge_f64
  else:
    return
  try:
    handle = handles.get((key, kind))
    if handle is None:
      handle = handles[(key, kind)] = make(path())
    handle.set(value if kind == 'state' else float(value))
  except (ScalesError, OverflowError):
    # A state longer than 127 bytes, say, or a value whose type changed
    # (the path holds the other kind): this process keeps it; readers do
    # not see it (migration guide).
    handles.pop((key, kind), None)


class _Sampled(object):
  """One callable set in a Stat, and the handle its values go to."""
  __slots__ = ('path', 'fn', 'pid', 'handles', 'write')

  def __init__(self, path, fn, write=None):
    self.path = path
    self.fn = fn
    self.pid = os.getpid()
    self.handles = {}
    self.write = write  # writes fn()'s value itself (StateTimeStat)


class _Sampler(object):
  """Samples the callables set in a Stat (the seed's `Stat('x', lambda:
  ...)`) into the segment, so that readers outside the process see their
  values: a daemon thread does it every `interval` seconds, and getStats()
  before it reads. Python code needs the GIL, so the thread takes it only
  while one callable runs and its value is written, and sleeps without
  it. The C library's callback thread is not used: a Python thread
  blocked on the registry lock while holding the GIL (registering a stat,
  say) would wait for a callback that waits for the GIL.

  Never harms the host: an exception in a callable is counted
  (callableErrors()), never raised into any thread, and the stat keeps
  its last value. A callable is sampled only by the process that set it:
  a forked child (a pre-forked server's worker) has no sampler thread
  until it sets a callable itself, and never writes its parent's."""

  interval = 1.0
  lock = threading.Lock()
  wake = threading.Condition(lock)
  entries = {}  # path -> _Sampled
  errors = collections.Counter()  # path -> exceptions raised
  thread = None
  closed = False

  @classmethod
  def register(cls, parent, name, fn, write=None):
    try:
      path = _join(parent, name)
    except PathError:
      return  # too long for the segment: stays in the process
    with cls.lock:
      cls.entries[path] = _Sampled(path, fn, write)
      if cls.thread is None and not cls.closed:
        cls.thread = threading.Thread(target=cls._run, name='scales-sampler',
                                      daemon=True)
        cls.thread.start()
      cls.wake.notify()

  @classmethod
  def unregister(cls, parent, name):
    if cls.entries:
      path = parent + '/' + _component(name)
      with cls.lock:
        cls.entries.pop(path, None)

  @classmethod
  def clear(cls):
    with cls.lock:
      cls.entries = {}
      cls.errors.clear()

  @classmethod
  def sampleAll(cls):
    """Samples, in this thread, the callables this process set."""
    if not cls.entries:
      return
    pid = os.getpid()
    with cls.lock:
      mine = [e for e in cls.entries.values() if e.pid == pid]
    for entry in mine:
      cls._sample(entry)

  @classmethod
  def _sample(cls, entry):
    try:
      value = entry.fn()
    except Exception:  # pylint: disable=broad-except
      with cls.lock:
        cls.errors[entry.path] += 1
      return
    with cls.lock:
      # Written under the lock, and only while the entry is current: a
      # reset() or a new value between the call and here, or the
      # segment's closing at exit, drops the value.
      if not cls.closed and cls.entries.get(entry.path) is entry:
        if entry.write is not None:
          entry.write(value)
        else:
          _write(entry.handles, 0, lambda: entry.path, value)

  @classmethod
  def _run(cls):
    me = threading.current_thread()
    while True:
      with cls.lock:
        if cls.thread is not me or cls.closed:
          return
      cls.sampleAll()
      with cls.lock:
        if cls.thread is not me or cls.closed:
          return
        cls.wake.wait(cls.interval)

  @classmethod
  def setInterval(cls, seconds):
    with cls.lock:
      cls.interval = float(seconds)
      cls.wake.notify()

  @classmethod
  def close(cls):
    """At exit, before the segment is unmapped: no write after this."""
    with cls.lock:
      cls.closed = True
      cls.wake.notify()

  @classmethod
  def afterForkInChild(cls):
    # The thread was not forked, and it may have held the lock.
    cls.lock = threading.Lock()
    cls.wake = threading.Condition(cls.lock)
    cls.thread = None
    cls.errors = collections.Counter()


os.register_at_fork(after_in_child=_Sampler.afterForkInChild)


def callableErrors():
  """How many times each callable set in a Stat raised when it was sampled
  (by the stat's path in the segment); the exceptions are not raised."""
  with _Sampler.lock:
    return dict(_Sampler.errors)


def setSampleInterval(seconds):
  """How often the sampler thread samples the callables set in a Stat
  (default: every second)."""
  _Sampler.setInterval(seconds)


def _classStats(cls):
  for klass in cls.__mro__:
    if klass is object:
      break
    for value in list(vars(klass).values()):
      if isinstance(value, Stat):
        yield value


class Stat(object):
  """A value: a string state, a number, or a callable called when the
  stats are read. Strings also go to the segment (a state), numbers too
  (a double gauge); callables stay in this process."""

  def __init__(self, name, value='', logger=None):
    self._name = name
    # The instance __dict__ key, interned: the C descriptor looks it up
    # with its own interned copy, found by identity (no string compare).
    self._hkey = sys.intern('__scales_h_' + str(name))
    self._default = value
    self._logger = logger

  def getName(self):
    """The stat's name."""
    return self._name

  def _key(self):
    return '__scales_v_' + self._name

  def __get__(self, instance, _=None):
    if instance is None:
      return self
    container = _Stats.containerFor(instance)
    if self._name not in container:
      dict.__setitem__(container, self._name, self._getDefault(instance))
    return container[self._name]

  def _getDefault(self, _):
    return self._default

  def __set__(self, instance, value):
    container = _Stats.containerFor(instance)
    dict.__setitem__(container, self._name, value)
    if callable(value):
      _Sampler.register(container._path, self._name, value)
    else:
      _Sampler.unregister(container._path, self._name)
      self._mirror(instance, container, value)
    agg = _Stats.aggregator(instance, self._name)
    if agg and isinstance(agg[0], HistogramAggregationStat):
      key = (statsId(agg[1]), self._name)
      _Stats.seen.setdefault(key, set()).add(value)
      if not any(b[0] is container and b[1] == self._name
                 for b in _Stats.bindings):
        _Stats.bind(container, self._name,
                    lambda c=container, n=self._name: c.get(n), instance)
    if self._logger:
      self._logger('Updated stat "%s" with value: %s' % (self._name, value))

  def _mirror(self, instance, container, value):
    """Writes value into the segment when it has a form there."""
    handles = instance.__dict__.setdefault('__scales_mirror__', {})
    _write(handles, self._name, lambda: _join(container._path, self._name),
           value)

  def logger(self, logger):
    """Log textual updates of this value with logger."""
    self._logger = logger
    return self


class IntStat(_scales.IntStatBase, Stat):
  """An integer: a signed 64-bit gauge in the segment. `+=` and `-=` add
  to it (forked workers add up); plain assignment sets it."""

  def __init__(self, name, value=0):
    _scales.IntStatBase.__init__(self, name)
    Stat.__init__(self, name, value)

  def _bind(self, instance):
    """First access from instance: registers the gauge (C calls this)."""
    container = _Stats.containerFor(instance)
    handle = _scales.gauge(_join(container._path, self._name))
    if self._default:
      handle.set(int(self._default))
    instance.__dict__[self._hkey] = handle
    _Stats.bind(container, self._name, handle.get, instance)
    return handle


class DoubleStat(Stat):
  """A float: a double gauge in the segment."""

  def __init__(self, name, value=0.0):
    Stat.__init__(self, name, value)

  def _handle(self, instance):
    handle = instance.__dict__.get(self._hkey)
    if handle is None:
      container = _Stats.containerFor(instance)
      handle = _scales.gauge_f64(_join(container._path, self._name))
      if self._default:
        handle.set(float(self._default))
      instance.__dict__[self._hkey] = handle
      _Stats.bind(container, self._name, handle.get, instance)
    return handle

  def __get__(self, instance, _=None):
    if instance is None:
      return self
    return self._handle(instance).get()

  def __set__(self, instance, value):
    self._handle(instance).set(value)


class _KeyedDict(dict):
  """A dict whose keys are stats below the dict's path."""

  _kind = None

  def __init__(self, parent, instance, path):
    dict.__init__(self)
    self.parent = parent
    self.instance = instance
    self._path = path
    self._handles = {}

  def _handle(self, key):
    handle = self._handles.get(key)
    if handle is None:
      handle = self._handles[key] = self._kind(_join(self._path, key))
    return handle

  def refresh(self):
    for key, handle in list(self._handles.items()):
      dict.__setitem__(self, key, handle.get())
    return self


class IntDict(_KeyedDict):
  """Integers by key: one gauge per key at <dict path>/<key>."""

  _kind = staticmethod(_scales.gauge)

  def __init__(self, parent, instance, path, autoDelete=False):
    _KeyedDict.__init__(self, parent, instance, path)
    _scales.dict(path)  # readers show its children as keys, as written
    self.autoDelete = autoDelete
    self._last = {}

  def __getitem__(self, key):
    handle = self._handles.get(key)
    if handle is None:
      # Not registered yet: reads 0, and a following `+= n` adds n
      # (another worker may have counted this key already).
      self._last[key] = 0
      return 0
    value = handle.get()
    self._last[key] = value
    return value

  def __setitem__(self, key, value):
    value = int(value)
    handle = self._handle(key)
    last = self._last.pop(key, None)
    if last is not None:
      handle.add(value - last)  # d[k] += n adds n, across workers too
    else:
      handle.set(value)
    if self.autoDelete and handle.get() == 0:
      _scales.retire(handle.path)
      del self._handles[key]
      dict.pop(self, key, None)
    else:
      dict.__setitem__(self, key, handle.get())

  def __delitem__(self, key):
    handle = self._handles.pop(key)
    _scales.retire(handle.path)
    dict.pop(self, key, None)

  def refresh(self):
    _KeyedDict.refresh(self)
    if self.autoDelete:
      for key in [k for k, v in self.items() if v == 0]:
        dict.pop(self, key)
    return self


class StringDict(_KeyedDict):
  """Strings by key: one state per key at <dict path>/<key>."""

  _kind = staticmethod(_scales.state)

  def __getitem__(self, key):
    return dict.get(self, key, '')

  def __setitem__(self, key, value):
    if value:
      self._handle(key).set(value)
    dict.__setitem__(self, key, value)

  def refresh(self):
    return self


class IntDictStat(Stat):
  """A dict of integers (HTTP status codes, say)."""

  def __init__(self, name, autoDelete=False):
    Stat.__init__(self, name)
    self.autoDelete = autoDelete

  def _make(self, instance, container):
    return IntDict(self, instance, _join(container._path, self._name),
                   self.autoDelete)

  def __get__(self, instance, _=None):
    if instance is None:
      return self
    container = _Stats.containerFor(instance)
    d = container.get(self._name)
    if d is None:
      d = self._make(instance, container)
      dict.__setitem__(container, self._name, d)
      _Stats.bind(container, self._name, d.refresh, instance)
    return d

  def __set__(self, instance, value):
    d = self.__get__(instance)
    for key, v in dict(value).items():
      d[key] = v


class StringDictStat(IntDictStat):
  """A dict of strings."""

  def __init__(self, name, value=None):
    IntDictStat.__init__(self, name)

  def _make(self, instance, container):
    return StringDict(self, instance, _join(container._path, self._name))


def _now():
  """StateTimeStat's clock: seconds, monotonic (tests replace it)."""
  return time.monotonic()


class StateTimeDict(dict):
  """Seconds spent in each state of a StateTimeStat: d[state] is the
  accumulated time (0.0 for a state never entered), plus, for the current
  state, the time since it was entered. As a dict (getStats(), the pages)
  it holds the same values as of the last getStats().

  Readers see one double gauge per state at <stat path>/<state> (a dict
  in the segment, so keys show as written): this process adds to it what
  it accumulated since it last wrote, when it leaves or enters a state,
  on incr(), and, for the current state, from the sampler thread; forked
  workers therefore add up. Thread-safe: one lock orders the changes and
  the writes, so a reader never sees a state's time go back."""

  def __init__(self, parent, instance, container):
    dict.__init__(self)
    self.parent = parent
    self.instance = instance
    self._path = path = _join(container, parent.getName())
    self._lock = threading.RLock()
    self.state = 0
    self._since = None  # when the current state began; None: not started
    self._totals = {}  # state -> seconds, the current run excluded
    self._written = {}  # state -> seconds this process added to its gauge
    self._handles = {}  # state -> gauge; None: stays in the process
    try:
      _scales.dict(path)  # readers show the states as written
    except ScalesError:
      pass
    _Sampler.register(container, parent.getName(), _now, self._writeCurrent)

  def _value(self, state, now):
    total = self._totals.get(state, 0.0)
    if state == self.state and self._since is not None:
      total += now - self._since
    return total

  def __getitem__(self, state):
    with self._lock:
      return self._value(state, _now())

  def get(self, state, default=0.0):
    with self._lock:
      if state in self._totals or state == self.state:
        return self._value(state, _now())
      return default

  def _write(self, state, now):
    """Adds to state's gauge what this process accumulated since its last
    write (lock held). Never raises: a state the segment cannot hold (a
    path too long, say) stays in this process."""
    handle = self._handles.get(state, False)
    if handle is None:
      return
    try:
      if handle is False:
        handle = self._handles[state] = _scales.gauge_f64(
            _join(self._path, state))
      value = self._value(state, now)
      handle.add(value - self._written.get(state, 0.0))
      self._written[state] = value
    except (ScalesError, PathError, OverflowError):
      self._handles[state] = None

  def _writeCurrent(self, now):
    # The sampler thread, holding _Sampler.lock (then ours: the only order
    # the two are taken in).
    with self._lock:
      if self._since is not None:
        self._write(self.state, max(now, self._since))

  def incr(self, state, seconds):
    """Adds seconds to state's time."""
    with self._lock:
      self._totals[state] = self._totals.get(state, 0.0) + seconds
      self._write(state, _now())

  def _set(self, value):
    with self._lock:
      if value == self.state:
        return
      now = _now()
      old = self.state
      if self._since is not None:
        self._totals[old] = self._value(old, now)
        self._since = now  # old's run is in its total now
        self._write(old, now)
      self.state = value
      self._since = now
      self._write(value, now)  # the new state's key appears at once

  def _add(self, n):
    with self._lock:
      self._set(self.state + n)

  @contextlib.contextmanager
  def acquire(self):
    """The (integer) state plus one for the body of the with statement:
    how many are in it at once, and how long each count lasted."""
    self._add(1)
    try:
      yield self
    finally:
      self._add(-1)

  def refresh(self):
    with self._lock:
      now = _now()
      states = list(self._totals)
      if self._since is not None and self.state not in self._totals:
        states.append(self.state)
      for state in states:
        dict.__setitem__(self, state, self._value(state, now))
    return self


class StateTimeStat(Stat):
  """Time spent in each state: `obj.stat = state` enters a state (setting
  the current one does nothing); `obj.stat[state]` is the seconds spent
  in it; `with obj.stat.acquire():` counts the bodies running at once.
  The state is kept per instance (the seed kept it on the descriptor,
  shared by every instance of the class): see the migration guide."""

  def __init__(self, name, _=None):
    Stat.__init__(self, name)

  def __get__(self, instance, _=None):
    if instance is None:
      return self
    container = _Stats.containerFor(instance)
    d = container.get(self._name)
    if d is None:
      d = StateTimeDict(self, instance, container._path)
      dict.__setitem__(container, self._name, d)
      _Stats.bind(container, self._name, d.refresh, instance)
    return d

  def __set__(self, instance, value):
    self.__get__(instance)._set(value)


class AggregationStat(Stat):
  """A stat that aggregates the same-named stat of descendants."""

  def __init__(self, name, value=None):
    Stat.__init__(self, name, value)

  def __get__(self, instance, _=None):
    if instance is None:
      return self
    _Stats.refresh()
    container = _Stats.containerFor(instance)
    return container.get(self._name, self._getDefault(instance))

  def __set__(self, instance, value):
    raise AttributeError('aggregate stat %s is computed from its children'
                         % self._name)

  def combine(self, values, seen):
    raise NotImplementedError


class ChildAggregationStat(AggregationStat):
  """A stat that aggregates values within descendants' dict stats."""


class SumAggregationStat(AggregationStat):
  """The sum of the descendants' stat."""

  def __init__(self, name):
    AggregationStat.__init__(self, name, 0)

  def combine(self, values, seen):
    return sum(v for v in values if isinstance(v, (int, float)))


class HistogramAggregationStat(AggregationStat):
  """How many descendants have each value of their stat."""

  def __init__(self, name, autoDelete=False):
    AggregationStat.__init__(self, name, None)
    self.autoDelete = autoDelete

  def _getDefault(self, _):
    return collections.defaultdict(int)

  def combine(self, values, seen):
    histogram = collections.defaultdict(int)
    if not self.autoDelete:
      for v in seen:
        if v:
          histogram[v] = 0
    for v in values:
      if v:
        histogram[v] += 1
    return histogram


class IntDictSumAggregationStat(ChildAggregationStat):
  """Key by key, the sum of the descendants' int dict stat."""

  def _getDefault(self, _):
    return collections.defaultdict(int)

  def combine(self, values, seen):
    total = collections.defaultdict(int)
    for d in values:
      for key, v in dict.items(d):
        total[key] += v
    return total


def _pmfItems(stats):
  """The seed's PmfStat summary from a histogram's statistics (the reader
  library's, as scales-top computes them: docs/format.md, section 6.1):
  count, and when there are values min, max, mean, stddev, median and
  the 75th to 99.9th percentiles."""
  items = [('count', stats['count'])]
  if stats['count']:
    items += [(name, stats[key]) for name, key in PmfStatDict.KEYS]
  return items


class PmfStatDict(dict):
  """A histogram in the segment (seconds); reads as the seed's summary."""

  KEYS = (('min', 'min'), ('max', 'max'), ('mean', 'mean'),
          ('stddev', 'stddev'), ('median', 'p50'), ('75percentile', 'p75'),
          ('95percentile', 'p95'), ('98percentile', 'p98'),
          ('99percentile', 'p99'), ('999percentile', 'p999'))

  def __init__(self, path):
    dict.__init__(self)
    self._h = _scales.histogram(path)
    self.percentile99 = None
    dict.__setitem__(self, 'count', 0)
    self.time = self._h.time

  def __getitem__(self, item):
    # Current, as the seed's (whose addValue updated the dict): one
    # read of the histogram per item read.
    self.refresh()
    return dict.get(self, item, 0.0)

  def addValue(self, value):
    """Records value (seconds)."""
    self._h.record(value)

  def refresh(self):
    stats = self._h.snapshot()
    for key, value in _pmfItems(stats):
      dict.__setitem__(self, key, value)
    if stats['count']:
      self.percentile99 = stats['p99']
    return self


class _DictBackedStat(Stat):
  """A stat whose value is a dict of statistics (DICT_CLASS, made once per
  instance from the stat's path and refreshed when read)."""
  DICT_CLASS = None

  def __init__(self, name, _=None):
    Stat.__init__(self, name, None)

  def _dict(self, instance):
    d = instance.__dict__.get(self._hkey)
    if d is None:
      container = _Stats.containerFor(instance)
      d = self.DICT_CLASS(_join(container._path, self._name))
      instance.__dict__[self._hkey] = d
      dict.__setitem__(container, self._name, d)
      _Stats.bind(container, self._name, d.refresh, instance)
    return d


class PmfStat(_scales.PmfStatBase, _DictBackedStat):
  """A distribution of values (latencies in seconds): a histogram in the
  segment. `obj.stat = v` records v; `with obj.stat.time():` times a
  block (call .discard() on the timer to drop the sample). The descriptor
  is _scales.PmfStatBase (C): it calls _dict() on first use."""
  DICT_CLASS = PmfStatDict

  def __init__(self, name, _=None):
    _scales.PmfStatBase.__init__(self, name)
    _DictBackedStat.__init__(self, name)


class NamedPmfDict(dict):
  """PmfStatDicts by name."""

  def __init__(self, path):
    dict.__init__(self)
    self._path = path

  def __getitem__(self, item):
    if item not in self:
      dict.__setitem__(self, item, PmfStatDict(_join(self._path, item)))
    return dict.__getitem__(self, item)

  def __setitem__(self, key, value):
    self[key].addValue(value)

  def refresh(self):
    for d in self.values():
      d.refresh()
    return self


class NamedPmfDictStat(Stat):
  """A dict of PmfStats."""

  def __get__(self, instance, _=None):
    if instance is None:
      return self
    container = _Stats.containerFor(instance)
    d = container.get(self._name)
    if d is None:
      d = NamedPmfDict(_join(container._path, self._name))
      dict.__setitem__(container, self._name, d)
      _Stats.bind(container, self._name, d.refresh, instance)
    return d


def filterCollapsedItems(data):
  """The items of data, without collapsed containers."""
  return ((key, value) for key, value in data.items()
          if not (isinstance(value, StatContainer) and value.isCollapsed()))


class StatContainerEncoder(json.JSONEncoder):
  """JSON encoding that leaves collapsed containers out and calls stat
  functions."""

  def default(self, o):  # pylint: disable=E0202
    if hasattr(o, '__call__'):
      return o()
    return json.JSONEncoder.default(self, o)

  def iterencode(self, o, _one_shot=False):
    return json.JSONEncoder.iterencode(self, _expand(o), _one_shot)


def _expand(value):
  """Plain dicts for the encoder: collapsed containers left out."""
  if isinstance(value, dict):
    return dict((k, _expand(v)) for k, v in filterCollapsedItems(value))
  return value


def dumpStatsTo(filename):
  """Writes the stats dictionary to filename as JSON."""
  with builtins.open(filename, 'w') as f:
    latest = getStats()
    latest['last-updated'] = time.time()
    json.dump(latest, f, cls=StatContainerEncoder)


def collection(path, *stats):
  """A named stats collection object with the given stats as attributes."""

  def initMethod(self):
    init(self, path)

  attrs = {'__init__': initMethod}
  for stat in stats:
    attrs[stat.getName()] = stat
  newClass = type('Stats:%s' % path, (object,), attrs)
  instance = newClass()
  for stat in stats:
    # As the seed: a stat with an initial value starts with it (for a
    # Stat('x', lambda: ...), the callable, sampled into the segment).
    if stat._default and type(stat) in (Stat, IntStat, DoubleStat):
      setattr(instance, stat.getName(), stat._default)
  return instance


@atexit.register
def _close():
  # The creating process removes its segment; forked children never do.
  _Sampler.close()
  _scales.close()
