# SPDX-License-Identifier: MIT
"""greplin.scales on the segment: the seed's API, what readers see of it,
and the differences the segment forces (clear exceptions, never a crash)."""
import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from greplin import scales
from greplin.scales import formats, meter, util
import _scales

from conftest import read_metrics, SCALES_TOP


class Handler(object):
  requests = scales.IntStat('requests')
  errors = scales.IntDictStat('errors')
  latency = scales.PmfStat('latency')
  state = scales.Stat('state')
  ratio = scales.DoubleStat('ratio')
  names = scales.StringDictStat('names')

  def __init__(self, path='/handler'):
    scales.init(self, path)


def test_intstat_reaches_readers():
  h = Handler()
  h.requests += 41
  h.requests += 1
  assert read_metrics()['/handler/requests']['value'] == 42
  assert scales.getStats()['handler']['requests'] == 42


def test_intstat_plus_equals_adds_across_forked_children():
  # Forked workers share the segment: each += must add, not overwrite.
  # The children start together (a pipe as the gate) so that their
  # read-modify-writes interleave.
  h = Handler()
  h.requests += 0
  gate_r, gate_w = os.pipe()
  pids = []
  for _ in range(4):
    pid = os.fork()
    if pid == 0:
      try:
        os.close(gate_w)
        os.read(gate_r, 1)
        for _ in range(200000):
          h.requests += 1
      finally:
        os._exit(0)
    pids.append(pid)
  os.close(gate_r)
  os.close(gate_w)
  for pid in pids:
    assert os.waitpid(pid, 0)[1] == 0
  assert h.requests == 800000
  assert read_metrics()['/handler/requests']['value'] == 800000


def test_intstat_assignment_sets():
  h = Handler()
  h.requests += 5
  h.requests = 3
  assert h.requests == 3
  h.requests = 7  # no read before: a plain set
  assert read_metrics()['/handler/requests']['value'] == 7


def test_intstat_rejects_non_int_clearly():
  h = Handler()
  with pytest.raises(TypeError, match='IntStat requests takes an int'):
    h.requests = 'lots'
  with pytest.raises(OverflowError):
    h.requests = 1 << 70


def test_dict_keys_any_string_round_trip():
  h = Handler()
  h.errors['http://example.com/a b'] += 2
  h.errors['500'] += 1
  h.errors[''] += 1
  assert scales.getStats()['handler']['errors'] == {
      'http://example.com/a b': 2, '500': 1, '': 1}
  m = read_metrics()
  assert m['/handler/errors/http:%2F%2Fexample.com%2Fa%20b']['value'] == 2
  assert m['/handler/errors/500']['value'] == 1
  assert m['/handler/errors/%']['value'] == 1  # the empty key


def test_dict_key_user_agent_counts_and_shows_as_written():
  # issue 14 item 7: any UTF-8 key; readers show it as written
  h = Handler()
  ua = 'Mozilla/5.0 (X11; Linux)'
  h.errors[ua] += 3
  h.errors['a%41'] += 1
  h.errors['aA'] += 2
  with pytest.raises(scales.PathError, match='not valid UTF-8'):
    h.errors['bad \ud800'] += 1
  with pytest.raises(scales.PathError, match='NUL'):
    h.errors['a\0b'] += 1
  with pytest.raises(scales.PathError, match='at most 255 bytes'):
    h.errors['\u65e5' * 90] += 1
  h.errors[ua] += 1  # the refusals lost nothing
  assert scales.getStats()['handler']['errors'] == {ua: 4, 'a%41': 1, 'aA': 2}
  m = read_metrics()
  keys = {v['key']: v['value'] for p, v in m.items()
          if p.startswith('/handler/errors/')}
  assert keys == {ua: 4, 'a%41': 1, 'aA': 2}
  assert m['/handler/errors/Mozilla%2F5.0%20%28X11%3B%20Linux%29'][
      'value'] == 4
  assert m['/handler/errors']['kind'] == 'dict'
  assert m['/handler/errors']['value'] == 7
  # /metrics: the key is the label "key", as written, in a gauge family
  # (the seed's dict values may go down)
  export = os.path.join(os.path.dirname(SCALES_TOP), '..', 'scales-export',
                        'scales-export')
  if '--http ' not in subprocess.run([export, '--help'], capture_output=True,
                                     text=True).stdout:
    return
  p = subprocess.Popen([export, '--http', '127.0.0.1:0',
                        os.environ['SCALES_APP']],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
  try:
    line = p.stderr.readline()
    url = line.split('serving ')[1].strip().rstrip('/')
    body = urllib.request.urlopen(url + '/metrics', timeout=30).read()
    text = body.decode('utf-8')
  finally:
    p.terminate()
    p.wait()
  assert ('scales_handler_errors{app="%s",key="%s"} 4'
          % (os.environ['SCALES_APP'], ua)) in text, text
  assert '# TYPE scales_handler_errors gauge' in text


def test_too_long_path_is_a_clear_exception():
  h = Handler()
  with pytest.raises(scales.PathError, match='at most 255 bytes'):
    h.errors['x' * 300] += 1
  assert isinstance(scales.PathError('x'), ValueError)


def test_pmfstat_time_discard_and_record():
  h = Handler()
  with h.latency.time():
    pass
  with h.latency.time() as t:
    t.discard()
  h.latency = 0.5
  stats = scales.getStats()['handler']['latency']
  assert stats['count'] == 2
  assert stats['max'] == pytest.approx(0.5)
  m = read_metrics()['/handler/latency']
  assert m['kind'] == 'histogram' and m['count'] == 2


def test_state_and_double_reach_readers():
  h = Handler()
  h.state = 'waitingForTask'
  h.ratio = 0.25
  h.names['x'] = 'y'
  m = read_metrics()
  assert m['/handler/state']['kind'] == 'state'
  assert m['/handler/ratio']['value'] == 0.25
  assert h.ratio == 0.25
  assert scales.getStats()['handler']['names'] == {'x': 'y'}


def test_long_state_stays_in_process_without_error():
  h = Handler()
  h.state = 'x' * 500  # the segment holds states of at most 127 bytes
  assert scales.getStats()['handler']['state'] == 'x' * 500


def test_callable_stat_is_called_by_formats():
  h = Handler()
  h.state = lambda: 'computed'
  out = io.StringIO()
  formats.jsonFormat(out)
  assert json.loads(out.getvalue())['handler']['state'] == 'computed'


def test_reset_retires_stats_for_readers():
  h = Handler()
  h.requests += 1
  assert '/handler/requests' in read_metrics()
  scales.reset()
  assert '/handler/requests' not in read_metrics()
  assert scales.getStats() == {}


def test_meterstat_counts():
  class M(object):
    hits = meter.MeterStat('hits')

    def __init__(self):
      scales.init(self, '/m')
  m = M()
  m.hits = 3
  m.hits.mark()
  assert scales.getStats()['m']['hits']['count'] == 4
  assert read_metrics()['/m/hits']['value'] == 4


def test_html_format_and_query():
  h = Handler()
  h.requests += 3
  h.errors['<b>'] += 1
  out = io.StringIO()
  formats.htmlFormat(out)
  page = out.getvalue()
  assert '<span class="key">requests</span> <span class="int">3</span>' in page
  assert '&lt;b&gt;' in page and '<b>' not in page
  assert formats.runQuery(scales.getStats(), 'requests > 2') == {
      'handler': {'requests': 3}}


def test_dump_stats_to(tmp_path):
  h = Handler()
  h.requests += 9
  target = tmp_path / 'stats.json'
  scales.dumpStatsTo(str(target))
  doc = json.loads(target.read_text())
  assert doc['handler']['requests'] == 9 and 'last-updated' in doc


def test_sum_aggregate_declared_for_readers():
  class Parent(object):
    total = scales.SumAggregationStat('count')

    def __init__(self):
      scales.init(self, '/pool')

    def spawn(self, name):
      return Kid(name)

  class Kid(object):
    count = scales.IntStat('count')

    def __init__(self, name):
      scales.initChild(self, name)

  p = Parent()
  a, b = p.spawn('a'), p.spawn('b')
  a.count += 2
  b.count += 3
  assert scales.getStats()['pool']['count'] == 5
  assert p.total == 5
  assert read_metrics()['/pool/count']['value'] == 5


def test_util_lookup():
  assert util.lookup({'a': {'b': 1}}, ['a', 'b']) == 1
  assert util.lookup({'a': {}}, ['a', 'b'], 'none') == 'none'


def test_native_module():
  import scales as native
  c = native.counter('/native/c')
  c.inc()
  c.add(4)
  assert c.get() == 5
  with pytest.raises(ValueError):
    c.add(-1)
  h = native.histogram('/native/h')
  h.record(0.001)
  assert h.snapshot()['count'] == 1
  with pytest.raises(native.PathError):
    native.counter('no-leading-slash')
  with pytest.raises(TypeError):
    c.record(1.0)
  assert read_metrics()['/native/c']['value'] == 5
  assert _scales.is_open()


def wait_for(predicate, what):
  """Polls predicate until it holds (at most 60 s: a bound for a loaded
  machine, not a timing assertion)."""
  deadline = time.monotonic() + 60
  while not predicate():
    assert time.monotonic() < deadline, 'never happened: ' + what
    time.sleep(0.02)


@pytest.fixture
def fast_sampler():
  scales.setSampleInterval(0.02)
  yield
  scales.setSampleInterval(1.0)


def metric_value(path):
  return read_metrics().get(path, {}).get('value')


class Dynamic(object):
  value = scales.Stat('value')
  label = scales.Stat('label', lambda: 'ready')  # a class default
  who = scales.Stat('who')

  def __init__(self, box):
    scales.init(self, '/dyn')
    self.value = lambda: box['v']


def test_callable_stat_is_sampled_for_readers(fast_sampler):
  # Nothing in this process reads the stats: the sampler thread alone
  # brings the callable's values to a reader outside the process.
  box = {'v': 1.5}
  Dynamic(box)
  wait_for(lambda: metric_value('/dyn/value') == 1.5, 'first value')
  box['v'] = 2.5
  wait_for(lambda: metric_value('/dyn/value') == 2.5, 'the new value')
  assert read_metrics()['/dyn/label']['value'] == 'ready'
  # The seed's shape is kept: getStats() holds the callable itself.
  assert scales.getStats()['dyn']['value']() == 2.5


def test_callable_stat_is_sampled_on_get_stats():
  scales.setSampleInterval(3600)  # the thread samples once, then sleeps
  try:
    box = {'v': 1}
    Dynamic(box)
    wait_for(lambda: metric_value('/dyn/value') == 1, 'first value')
    box['v'] = 2
    scales.getStats()
    assert metric_value('/dyn/value') == 2
  finally:
    scales.setSampleInterval(1.0)


def test_callable_exception_is_counted_not_raised(fast_sampler, monkeypatch):
  raised = []
  monkeypatch.setattr(threading, 'excepthook', raised.append)
  box = {'v': 3}
  d = Dynamic(box)
  d.who = lambda: 1 / 0
  wait_for(lambda: scales.callableErrors().get('/dyn/who', 0) >= 2,
           'two failed samples')
  scales.getStats()  # samples here too: no exception either
  # The thread goes on sampling the others, and the failing one again.
  box['v'] = 4
  wait_for(lambda: metric_value('/dyn/value') == 4, 'the others sampled')
  d.who = lambda: 9
  wait_for(lambda: metric_value('/dyn/who') == 9, 'the fixed callable')
  assert not raised
  with pytest.raises(ZeroDivisionError):  # the seed's page would raise
    (lambda: 1 / 0)()


def test_callable_is_sampled_by_the_process_that_set_it():
  # A forked child (a pre-forked server's worker) shares the segment but
  # never samples its parent's callables: the value stays the parent's.
  scales.setSampleInterval(3600)
  try:
    d = Dynamic({'v': 0})
    d.who = os.getpid
    parent = os.getpid()
    wait_for(lambda: metric_value('/dyn/who') == parent, 'parent sampled')
    pid = os.fork()
    if pid == 0:
      code = 1
      try:
        scales.getStats()
        d.value = lambda: 7  # the child's own callable: sampled by it
        scales.getStats()
        code = 0
      finally:
        os._exit(code)
    assert os.waitpid(pid, 0)[1] == 0
    assert metric_value('/dyn/who') == parent
    assert metric_value('/dyn/value') == 7
  finally:
    scales.setSampleInterval(1.0)


PMF_KEYS = (('min', 'min'), ('max', 'max'), ('mean', 'mean'),
            ('stddev', 'stddev'), ('median', 'p50'), ('75percentile', 'p75'),
            ('95percentile', 'p95'), ('98percentile', 'p98'),
            ('99percentile', 'p99'), ('999percentile', 'p999'))


def record_spread(h):
  for i in range(1, 400):
    h.latency = i * 0.000137 + (i % 7) * 0.01


def test_pmfstat_summary_is_what_readers_compute():
  # The seed's PmfStat dict (with stddev) holds exactly the numbers
  # scales-top computes from the segment (docs/format.md, section 6.1).
  h = Handler()
  record_spread(h)
  mine = scales.getStats()['handler']['latency']
  theirs = read_metrics()['/handler/latency']
  assert mine['count'] == theirs['count'] == 399
  for seed_key, reader_key in PMF_KEYS:
    assert mine[seed_key] == theirs[reader_key], seed_key
  assert h.latency.percentile99 == theirs['p99']
  assert 0 < mine['stddev'] < mine['max']


def test_pages_show_the_segment_as_readers_do():
  # A forked worker shares the segment: what it counts under a key this
  # process never touched, and its latencies, are on this process's
  # pages, with the numbers scales-top shows.
  h = Handler()
  h.requests += 2
  h.errors['500'] += 1
  h.state = 5
  pid = os.fork()
  if pid == 0:
    code = 1
    try:
      h.errors['404 not found'] += 3
      record_spread(h)
      code = 0
    finally:
      os._exit(code)
  assert os.waitpid(pid, 0)[1] == 0
  out = io.StringIO()
  formats.jsonFormat(out)
  page = json.loads(out.getvalue())['handler']
  assert page['errors'] == {'500': 1, '404 not found': 3}
  assert page['requests'] == 2 and page['state'] == 5
  assert '"state": 5,' in out.getvalue()  # the seed's int, not 5.0
  theirs = read_metrics()['/handler/latency']
  assert page['latency']['count'] == 399
  for seed_key, reader_key in PMF_KEYS:
    assert page['latency'][seed_key] == theirs[reader_key], seed_key
  # The seed's handlers pass a container of getStats() (util.lookup):
  # it is shown with the segment's values too.
  out = io.StringIO()
  formats.htmlFormat(out, ('handler',),
                     util.lookup(scales.getStats(), ['handler']))
  assert ('<span class="key">404 not found</span> <span class="int">3'
          '</span>') in out.getvalue()


def test_pages_keep_collapsed_containers_out_with_the_segment():
  class Root(object):
    def __init__(self):
      scales.init(self, '/root')

    def child(self, name, collapsed):
      return Kid(name, collapsed)

  class Kid(object):
    count = scales.IntStat('count')

    def __init__(self, name, collapsed):
      scales.initChild(self, name).setCollapsed(collapsed)

  r = Root()
  r.child('shown', False).count += 1
  r.child('hidden', True).count += 100
  out = io.StringIO()
  formats.jsonFormat(out, scales.getStats()['root'])
  assert out.getvalue() == '{"shown": {"count": 1}}\n'


def test_descriptors_keep_each_instance_its_own_stat():
  # IntStat and PmfStat cache the last instance's handle: instances used
  # in turn, one freed and another made (its dict may reuse the address),
  # each still counts into its own stat.
  import gc

  class K(object):
    n = scales.IntStat('n')
    lat = scales.PmfStat('lat')

    def __init__(self, name):
      scales.init(self, '/k/' + name)

  a, b = K('a'), K('b')
  for _ in range(10):
    a.n += 1
    b.n += 2
    a.lat = 0.001
    b.lat = 0.002
    b.lat = 0.002
  del a
  gc.collect()
  for name in 'cdefgh':
    k = K(name)
    k.n += 5
    k.lat = 0.003
    assert k.n == 5 and k.lat['count'] == 1
    del k
  assert b.n == 20 and b.lat['count'] == 20
  m = read_metrics()
  assert m['/k/a/n']['value'] == 10 and m['/k/a/lat']['count'] == 10
  assert m['/k/b/n']['value'] == 20 and m['/k/b/lat']['count'] == 20
  assert all(m['/k/%s/n' % c]['value'] == 5 for c in 'cdefgh')
  with pytest.raises(TypeError):
    b.lat = 'slow'
  assert scales.getStats()['k']['b']['lat']['count'] == 20


OTHER_WORKER = '''
import sys
from greplin import scales
class Handler(object):
  requests = scales.IntStat('requests')
  errors = scales.IntDictStat('errors')
  def __init__(self):
    scales.init(self, '/handler')
h = Handler()
h.requests += 5
h.errors['502'] += 4
print('counted', flush=True)
sys.stdin.read()  # stays alive (its segment live) until told
'''


def test_pages_merge_the_apps_processes_as_scales_export():
  # A worker that opened a segment of its own (a server forked without
  # --preload, or started apart) under the same app: the page shows the
  # app, its processes merged, as scales-top -m and scales-export do.
  h = Handler()
  h.requests += 2
  h.errors['500'] += 1
  other = subprocess.Popen([sys.executable, '-c', OTHER_WORKER],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
  try:
    assert other.stdout.readline() == 'counted\n'
    out = io.StringIO()
    formats.jsonFormat(out)
    page = json.loads(out.getvalue())['handler']
    merged = read_metrics(merge=True)
  finally:
    other.stdin.close()
    other.wait()
  assert page['requests'] == 7 == merged['/handler/requests']['value']
  assert page['errors'] == {'500': 1, '502': 4}
  # getStats() stays this process's, as the seed's was.
  assert scales.getStats()['handler']['requests'] == 2


def test_descriptor_cache_keeps_nothing_alive():
  # The C descriptors remember the last instance weakly: once nothing
  # else holds an instance, it and its attributes go. (greplin.scales
  # itself keeps its instances, as the seed did: bare descriptors here.)
  import gc
  import weakref

  class Count(_scales.IntStatBase):
    def _bind(self, instance):
      handle = _scales.gauge('/alive/n')
      instance.__dict__['__scales_h_n'] = handle
      return handle

  class Summary(object):
    def __init__(self):
      self._h = _scales.histogram('/alive/lat')

  class Latency(_scales.PmfStatBase):
    def _dict(self, instance):
      d = instance.__dict__['__scales_h_lat'] = Summary()
      return d

  class Payload(object):
    pass

  class K(object):
    n = Count('n')
    lat = Latency('lat')

    def __init__(self):
      self.payload = Payload()

  k = K()
  for _ in range(3):
    k.n += 1
    k.lat = 0.001
  assert k.n == 3 and k.lat._h.snapshot()['count'] == 3
  gone = weakref.ref(k.payload)
  del k
  gc.collect()
  assert gone() is None


class Worker(object):
  status = scales.StateTimeStat('status')
  busy = scales.StateTimeStat('busy')

  def __init__(self, path='/worker'):
    scales.init(self, path)


class FakeClock(object):
  def __init__(self):
    self.t = 1000.0

  def __call__(self):
    return self.t


@pytest.fixture
def clock(monkeypatch):
  c = FakeClock()
  monkeypatch.setattr(scales, '_now', c)
  return c


def test_state_time_transitions_accumulate(clock):
  w = Worker()
  assert w.status['idle'] == 0.0
  clock.t += 5  # state 0, not started: no time runs before the first set
  assert w.status[0] == 0.0
  w.status = 'idle'
  clock.t += 2
  assert w.status['idle'] == 2.0  # the current state's running time
  w.status = 'idle'  # the same state: nothing changes
  clock.t += 1
  w.status = 'working'
  clock.t += 4
  w.status = 'idle'
  clock.t += 0.5
  assert w.status['idle'] == 3.5
  assert w.status['working'] == 4.0
  assert w.status[0] == 0.0 and w.status['never'] == 0.0
  w.status.incr('working', 1.5)
  assert w.status['working'] == 5.5
  assert scales.getStats()['worker']['status'] == {'idle': 3.5,
                                                   'working': 5.5}
  # Readers outside the process: one double gauge per state, keys as
  # written, the current state's time included.
  m = read_metrics()
  assert m['/worker/status/idle']['value'] == 3.5
  assert m['/worker/status/working']['value'] == 5.5


def test_state_time_is_per_instance(clock):
  a, b = Worker('/a'), Worker('/b')
  a.status = 'x'
  clock.t += 3
  b.status = 'y'  # the seed's shared state would end a's 'x' here
  clock.t += 1
  assert a.status['x'] == 4.0 and a.status.state == 'x'
  assert b.status['y'] == 1.0 and b.status['x'] == 0.0


def test_state_time_acquire_nests(clock):
  w = Worker()
  with w.busy.acquire():
    assert w.busy.state == 1
    clock.t += 1
    with w.busy.acquire():
      assert w.busy.state == 2
      clock.t += 2
    assert w.busy.state == 1
    clock.t += 3
  assert w.busy.state == 0
  clock.t += 10
  with pytest.raises(RuntimeError):
    with w.busy.acquire():
      clock.t += 1
      raise RuntimeError('the body raised')
  assert w.busy.state == 0  # decremented all the same
  assert w.busy[1] == 5.0 and w.busy[2] == 2.0
  assert w.busy[0] == 10.0
  out = io.StringIO()
  formats.jsonFormat(out, statDict=scales.getStats())
  assert json.loads(out.getvalue())['worker']['busy'] == {
      '0': 10.0, '1': 5.0, '2': 2.0}
  m = read_metrics()
  assert m['/worker/busy/1']['value'] == 5.0
  assert m['/worker/busy/2']['value'] == 2.0


def test_state_time_utf8_keys_reach_readers(clock):
  w = Worker()
  w.status = 'attente à Zürich'
  clock.t += 2
  w.status = 'fini'
  clock.t += 1
  scales.getStats()  # brings the current state's time up to date
  m = read_metrics()
  # The key in the path, escaped by libscales's rule (the reader library
  # gives `key` only for integer children of a dict).
  assert m['/worker/status/' + _scales.component('attente à Zürich')][
      'value'] == 2.0
  assert m['/worker/status/fini']['value'] == 1.0


def test_state_time_grows_for_readers_from_the_sampler(fast_sampler):
  # Real time: nothing in this process reads or sets the stat after the
  # first set, and the reader sees the current state's time grow.
  w = Worker()
  w.status = 'waiting'
  time.sleep(0.05)
  wait_for(lambda: (metric_value('/worker/status/waiting') or 0) >= 0.05,
           'the current state\'s time written by the sampler')
  first = metric_value('/worker/status/waiting')
  wait_for(lambda: metric_value('/worker/status/waiting') > first,
           'the time growing')
  assert w.status['waiting'] >= first
  w.status = 'done'
  assert w.status['waiting'] >= 0.05
