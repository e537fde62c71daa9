# SPDX-License-Identifier: MIT
"""scales: the native Python names of libscales (shared-memory metrics).

    import scales
    requests = scales.counter('/web/requests')
    latency = scales.histogram('/web/latency')     # seconds
    requests.inc()
    with latency.time():
        ...

Readers (scales-top, scales-export) see the stats from outside the process.
The seed's API (greplin.scales) is built on the same module.
"""
from _scales import (ScalesError, PathError, Handle, open, close, reset,
                     retire, segment_path, counter, gauge, gauge_f64, state,
                     histogram, path_ok, LIB_VERSION)

__all__ = ['ScalesError', 'PathError', 'Handle', 'open', 'close', 'reset',
           'retire', 'segment_path', 'counter', 'gauge', 'gauge_f64',
           'state', 'histogram', 'path_ok', 'LIB_VERSION']
