"""The Socket.IO message queue between server processes (MOTCUA_MESSAGE_QUEUE=redis://...).

python-socketio's RedisManager, with two changes for an office whose Redis may restart:

- after a lost connection it subscribes again within a second (the stock manager waits 1, 2,
  4 ... up to 60 s between tries, so a Redis back after 10 s was heard again only ~5 s later);
- once subscribed again it calls `on_resubscribe` (the realtime hub sends its own screens a
  fresh snapshot): the emits other processes made while the channel was down are lost, and
  without it a screen showed the old state until the next change.

Every `queue:changed` emitted by any process (this one included) also calls `on_state`: the
phone pages served here read their tickets again (motcua/ticket_pages.py).

An emit of this process is published first while Redis is connected (the other processes start
their fan-out while this one writes to its own sockets); when Redis is not connected, this
process's screens get it first and it is published after, so a Redis outage only cuts the
processes off from each other. Local delivery is `motcua.fanout.FastEmit`.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

from socketio import RedisManager

from .fanout import FastEmit, LocalManager

log = logging.getLogger(__name__)

RETRY_FIRST_S = 0.2
RETRY_MAX_S = 1.0
PUBLISHED = "motcua_published"  # marks an emit of this process already published


class OfficeRedisManager(RedisManager, FastEmit):  # local delivery: FastEmit (motcua/fanout.py)
    def __init__(self, url: str, channel: str, **kw: Any):
        super().__init__(url, channel=channel, **kw)
        self.on_resubscribe: Callable[[], None] | None = None
        self.on_state: Callable[[], None] | None = None
        self.resubscribed = 0

    def _handle_emit(self, message):  # every emit, this process's and the others', delivered here
        if (message.get("host_id") == self.host_id and self.connected and message.get("callback") is None
                and PUBLISHED not in message):
            # This process's own emit: the other processes hear it first, then this one's screens
            # get it (writing to hundreds of sockets here takes milliseconds). Only while Redis is
            # connected: when it is not, this process's screens never wait for it.
            try:
                self.redis.publish(self.channel, self.json.dumps(message))
                message[PUBLISHED] = True
            except Exception:  # noqa: BLE001 - published the usual way after local delivery
                self.connected = False
        super()._handle_emit(message)
        if message.get("event") == "queue:changed" and self.on_state is not None:
            try:
                self.on_state()
            except Exception:  # noqa: BLE001 - never stop the listener
                log.exception("message queue: phone pages' update failed")

    def _publish(self, data):
        if isinstance(data, dict) and data.pop(PUBLISHED, False):
            return None  # published already, before local delivery
        return super()._publish(data)

    def _redis_listen_with_retries(self):  # the loop of python-socketio 5.x, retry capped
        retry = RETRY_FIRST_S
        subscribed = False
        lost = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed = True
                    retry = RETRY_FIRST_S
                    if lost:
                        lost = False
                        self.resubscribed += 1
                        log.warning("message queue: subscribed again to %s", self.channel)
                        if self.on_resubscribe is not None:
                            self.server.start_background_task(self._notify)
                yield from self.pubsub.listen()
            except Exception as exc:  # noqa: BLE001 - Redis down or restarting: try again
                if not lost:
                    log.error("message queue: lost Redis (%s); retrying every %.1f s at most", exc, RETRY_MAX_S)
                lost = True
                subscribed = False
                self.connected = False
                time.sleep(retry)
                retry = min(retry * 2, RETRY_MAX_S)

    def _notify(self) -> None:
        try:
            if self.on_resubscribe is not None:
                self.on_resubscribe()
        except Exception:  # noqa: BLE001 - the database may be down too; screens resync on the next change
            log.exception("message queue: resync after resubscribing failed")


def message_queue_options(url: str | None, channel: str) -> dict[str, Any]:
    """Keyword arguments for Flask-SocketIO: our manager for a Redis URL, else as given."""
    if url and url.startswith(("redis://", "rediss://")):
        return {"client_manager": OfficeRedisManager(url, channel)}
    if not url:
        return {"client_manager": LocalManager()}
    return {"message_queue": url, "channel": channel}
