"""A ``requests`` session whose connections tell the send's ``Conversation`` how far they got.

Each request first connects (a refused or timed-out connection sent nothing), hands its socket
to the conversation's watchdog, runs ``hand_over()`` (which may refuse: then nothing is sent),
writes the request, and calls ``written()``: from then until the answer, the service may have
acted on it. Used by the SMS (Twilio's client, whose session it replaces the adapter of) and
Slack channels; imported with ``requests``, when the first message of those channels is sent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from notifications.conversation import current


def _send_watched(connection: HTTPConnection, send: Callable[[], None]) -> None:
    conversation = current()
    if conversation is None:
        send()
        return
    if connection.sock is None:
        connection.connect()
    conversation.watch(connection.sock)
    conversation.hand_over()
    send()
    conversation.written()


class WatchedHTTPConnection(HTTPConnection):
    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        _send_watched(self, functools.partial(super().request, method, url, body, headers, **options))


class WatchedHTTPSConnection(HTTPSConnection):
    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        _send_watched(self, functools.partial(super().request, method, url, body, headers, **options))


class WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """No retries of its own (the Outbox retries, knowing what the provider may have)."""

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": WatchedHTTPConnectionPool,
            "https": WatchedHTTPSConnectionPool,
        }


def mount_watched(session: requests.Session) -> requests.Session:
    """``session``, its http:// and https:// requests going through watched connections."""
    adapter = WatchedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
