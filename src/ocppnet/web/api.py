"""Moved to :mod:`ocppnet.transport.http` (the node must not import the dashboard's package).

Kept as a re-export for branches written against the old place; new code imports
``ocppnet.transport.http``.
"""

from ocppnet.transport.http import HttpServer, JsonResponse, json_app, serve_http

__all__ = ["HttpServer", "JsonResponse", "json_app", "serve_http"]
