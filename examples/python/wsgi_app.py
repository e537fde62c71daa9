# SPDX-License-Identifier: MIT
"""A WSGI app counted with the seed's API, for a pre-forked server.

    SCALES_APP=wsgi-demo gunicorn --preload -w 4 --chdir examples/python \\
        wsgi_app:app
    scales-top -m wsgi-demo        # one app: the four workers' sums

With --preload the master imports this module and opens the segment; the
workers it forks (and the ones it forks again to replace a dead worker)
add into the same per-CPU words, so the totals are exact and a dead
worker's counts stay. Each response says which worker answered and how
many requests that worker has answered (a plain Python int: its own
count), which test/python/test_gunicorn.py checks the segment against.
"""
import json
import os

from greplin import scales

scales.open()  # in the master, before the fork


class AppStats(object):
  requests = scales.IntStat('requests')
  statuses = scales.IntDictStat('status')
  latency = scales.PmfStat('latency')

  def __init__(self):
    scales.init(self, '/app')


STATS = AppStats()
_answered = [0]  # this worker's own count (not shared)


def app(environ, start_response):
  with STATS.latency.time():
    STATS.requests += 1
    STATS.statuses['200'] += 1
    _answered[0] += 1
    body = json.dumps({'pid': os.getpid(), 'answered': _answered[0]})
  start_response('200 OK', [('Content-Type', 'application/json'),
                            ('Content-Length', str(len(body)))])
  return [body.encode()]
