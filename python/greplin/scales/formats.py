# SPDX-License-Identifier: MIT
"""HTML and JSON renderings of the stats, for the seed's stats pages
(Flask, Tornado, Twisted handlers call these with a writable output).

The values come from the reader library, which reads this process's app
as scales-top -m and scales-export do: the same numbers (summed over the
forked workers that share the segment and over the app's other live
processes, aggregates and histogram statistics computed as
docs/format.md says), in the seed's shape and with the seed's in-process
extras (collapsed containers, callables called).
"""

import html
import json
import operator
import re
import urllib.parse

from greplin import scales
import _scales

OPERATORS = {
    '>=': operator.ge,
    '>': operator.gt,
    '<=': operator.le,
    '<': operator.lt,
    '==': operator.eq,
    '=': operator.eq,
    '!=': operator.ne,
}

OPERATOR = re.compile('(%s)' % '|'.join(
    re.escape(k) for k in sorted(OPERATORS, key=len, reverse=True)))


def runQuery(statDict, query):
  """The part of statDict whose key matches query ("key" or "key op
  value", e.g. "count > 10")."""
  parts = [x.strip() for x in OPERATOR.split(query)]
  if len(parts) not in (1, 3):
    raise ValueError('query %r: expected "key" or "key op value"' % query)
  result = {}
  for key, value in statDict.items():
    if key == parts[0]:
      if len(parts) == 3:
        try:
          wanted = type(value)(parts[2]) if value else parts[2]
          if not OPERATORS[parts[1]](value, wanted):
            continue
        except (TypeError, ValueError):
          continue
      result[key] = value
    elif isinstance(value, dict):
      child = runQuery(value, query)
      if child:
        result[key] = child
  return result


def htmlHeader(output, path, serverName, query=None):
  """Writes the page's title, style and filter form."""
  title = '%s - Status' % html.escape(serverName)
  if path and path != '/':
    title += ': ' + html.escape(path)
  output.write('<title>%s</title>' % title)
  output.write('<style>body,td { font-family: monospace } '
               '.level .level { margin-left: 2em } .key { font-weight: bold }'
               ' .int, .float { color: #00c }</style>')
  output.write('<h1 style="margin: 0">Stats</h1>')
  output.write('<h3 style="margin: 3px 0 18px">%s</h3>' %
               html.escape(serverName))
  output.write('<p><form action="#" method="GET">Filter: <input type="text" '
               'name="query" size="20" value="%s"></form></p>' %
               html.escape(query or ''))


class _Pmf(dict):
  """A histogram's summary, as the seed's PmfStat shows it."""


_MISSING = object()


def _decode(component):
  """The name or key a path component stands for: docs/format.md,
  "Derived paths" (%XX is byte XX of the UTF-8 text; a lone % is the
  empty string)."""
  if component == '%':
    return ''
  return urllib.parse.unquote(component, errors='replace')


def _segmentTree():
  """The app (this process's segment merged with those of the app's other
  live processes) as the reader library reads it, as nested dicts by
  decoded path component; {} if it cannot be read (the page still shows
  this process's stats)."""
  try:
    metrics = _scales.read(app=True)
  except scales.ScalesError:
    return {}
  tree = {}
  for path in sorted(metrics):
    kind, value = metrics[path]
    if value is None:
      continue  # a state never set
    if kind == 'histogram':
      value = _Pmf(scales._pmfItems(value))  # pylint: disable=W0212
    parts = [_decode(c) for c in path.split('/')[1:]]
    node = tree
    for part in parts[:-1]:
      child = node.get(part)
      if not isinstance(child, dict) or isinstance(child, _Pmf):
        child = node[part] = {}  # a path with children shows them
      node = child
    if not (isinstance(node.get(parts[-1]), dict) and
            not isinstance(node[parts[-1]], _Pmf)):
      node[parts[-1]] = value
  return tree


def _subtree(tree, path):
  for part in path.split('/')[1:] if path else ():
    tree = tree.get(_decode(part))
    if not isinstance(tree, dict) or isinstance(tree, _Pmf):
      return {}
  return tree


def _withSegment(local, seg):
  """local (a getStats() dict) with the values the segment holds in seg,
  and what only the segment holds (other processes' keys, aggregates)."""
  if isinstance(local, scales.StatContainer):
    out = scales.StatContainer(local._path)  # pylint: disable=W0212
    out.setCollapsed(local.isCollapsed())
  else:
    out = {}
  names = set()
  for key, value in local.items():
    names.add(str(key))
    dict.__setitem__(out, key, _merge(value, seg.get(str(key), _MISSING)))
  for key, value in seg.items():
    if key not in names:
      dict.__setitem__(out, key, value)
  return out


def _merge(local, seg):
  """One value: the segment's, in the type the seed's value had, where
  the segment holds it; this process's otherwise (a callable, a string
  the segment cannot hold)."""
  if seg is _MISSING or callable(local) or isinstance(local, bool):
    return local
  if isinstance(local, scales.PmfStatDict):
    return seg if isinstance(seg, _Pmf) else local
  if isinstance(local, dict):
    segKey = getattr(local, 'SEGMENT_KEY', None)
    if segKey and isinstance(seg, int):  # a MeterStat: its counter
      merged = dict(local)
      merged[segKey] = seg
      return merged
    if isinstance(seg, dict) and not isinstance(seg, _Pmf):
      return _withSegment(local, seg)
    return local
  if isinstance(seg, (int, float)) and isinstance(local, (int, float)):
    if isinstance(local, int) and float(seg).is_integer():
      return int(seg)
    return seg if isinstance(local, int) else float(seg)
  if isinstance(local, str) and isinstance(seg, str):
    return seg
  return local


def _pageStats(statDict):
  """What a page shows: statDict (default: getStats()); a container of
  getStats() is shown with the segment's values at its path."""
  if statDict is None or (not statDict and
                          not isinstance(statDict, scales.StatContainer)):
    statDict = scales.getStats()
  elif isinstance(statDict, scales.StatContainer):
    scales.getStats()  # refreshes it; callables sampled into the segment
  else:
    return statDict
  seg = _subtree(_segmentTree(), statDict._path)  # pylint: disable=W0212
  return _withSegment(statDict, seg)


def htmlFormat(output, pathParts=(), statDict=None, query=None):
  """Writes statDict (default: getStats()) as nested HTML."""
  statDict = _pageStats(statDict)
  if query:
    statDict = runQuery(statDict, query)
  _htmlRenderDict(pathParts, statDict, output)


def _htmlRenderDict(pathParts, statDict, output):
  links = []
  output.write('<div class="level">')
  for key in sorted(statDict, key=str):
    keyStr = html.escape(str(key))
    value = statDict[key]
    if callable(value):
      value = value()
    if hasattr(value, 'keys'):
      valuePath = pathParts + (keyStr,)
      if isinstance(value, scales.StatContainer) and value.isCollapsed():
        links.append('<div class="key"><a href="/status/%s">%s</a></div>' %
                     ('/'.join(valuePath), keyStr))
      else:
        output.write('<div class="key">%s</div>' % keyStr)
        _htmlRenderDict(valuePath, value, output)
    else:
      output.write('<div><span class="key">%s</span> <span class="%s">%s'
                   '</span></div>' %
                   (keyStr, type(value).__name__,
                    html.escape(str(value)).replace('\n', '<br>')))
  for link in links:
    output.write(link)
  output.write('</div>')


def jsonFormat(output, statDict=None, query=None, pretty=False):
  """Writes statDict (default: getStats()) as JSON and a newline;
  collapsed containers are left out, stat functions are called."""
  statDict = _pageStats(statDict)
  if query:
    statDict = runQuery(statDict, query)
  json.dump(statDict, output, cls=scales.StatContainerEncoder,
            indent=2 if pretty else None)
  output.write('\n')
