# SPDX-License-Identifier: MIT
"""HTML and JSON renderings of the stats, for the seed's stats pages
(Flask, Tornado, Twisted handlers call these with a writable output)."""

import html
import json
import operator
import re

from greplin import scales

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


def htmlFormat(output, pathParts=(), statDict=None, query=None):
  """Writes statDict (default: getStats()) as nested HTML."""
  statDict = statDict or scales.getStats()
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
  statDict = statDict or scales.getStats()
  if query:
    statDict = runQuery(statDict, query)
  json.dump(statDict, output, cls=scales.StatContainerEncoder,
            indent=2 if pretty else None)
  output.write('\n')
