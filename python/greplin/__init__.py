# SPDX-License-Identifier: MIT
"""The greplin namespace (shared with other greplin.* distributions)."""
__path__ = __import__('pkgutil').extend_path(__path__, __name__)
