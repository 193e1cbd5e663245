"""Zalo ZNS (Zalo Notification Service): template messages over HTTPS with the office's
credentials ([messages.zns]: access token, one template id per message kind).

One POST per message to `url` (by default Zalo's ``/message/template``) with the header
``access_token`` and the JSON ``{"phone": "84912345678", "template_id", "template_data",
"tracking_id"}``; Zalo answers ``{"error": 0, ...}`` when it accepted the message, another
``error`` (with ``message``) when not. Requests run on the channel's own worker thread with
a timeout, one at a time; the answer goes back through ``done(ok, error)``.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import threading
import urllib.error
import urllib.request
from typing import Any, Callable

log = logging.getLogger(__name__)

Done = Callable[[bool, str], None]


class ZnsChannel:
    name = "zns"

    def __init__(self, cfg: Any):
        self.cfg = cfg  # config.schema.ZnsConfig
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="messages-zns", daemon=True)
        self._thread.start()

    @property
    def token(self) -> str:
        return self.cfg.access_token or os.environ.get("MOTCUA_ZNS_ACCESS_TOKEN", "")

    def submit(self, msg: dict[str, Any], done: Done) -> None:
        self._jobs.put((msg, done))

    def stop(self) -> None:
        self._stop.set()
        self._jobs.put(None)
        self._thread.join(3.0)

    def _main(self) -> None:
        while not self._stop.is_set():
            item = self._jobs.get()
            if item is None:
                return
            msg, done = item
            ok, error = self._send(msg)
            try:
                done(ok, error)
            except Exception:  # noqa: BLE001
                log.exception("zns: done callback failed")

    def _send(self, msg: dict[str, Any]) -> tuple[bool, str]:
        template = self.cfg.templates.get(msg["kind"])
        if not template:
            return False, f"Chưa khai báo mẫu tin Zalo cho loại tin '{msg['kind']}'"
        if not self.token:
            return False, "Chưa có access token của Zalo"
        phone = msg["phone"]
        body = {"phone": "84" + phone[1:] if phone.startswith("0") else phone, "template_id": template,
                "template_data": msg.get("data") or {}, "tracking_id": f"motcua-{msg['id']}"}
        req = urllib.request.Request(self.cfg.url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                     method="POST", headers={"Content-Type": "application/json; charset=utf-8",
                                                             "access_token": self.token})
        try:
            with urllib.request.urlopen(req, timeout=self.cfg.timeout_s) as resp:
                answer = json.loads(resp.read(65536).decode("utf-8") or "{}")
        except urllib.error.HTTPError as exc:
            return False, f"Zalo trả lời lỗi HTTP {exc.code}"
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            return False, f"Không kết nối được Zalo: {getattr(exc, 'reason', exc)}"
        except ValueError:
            return False, "Zalo trả lời không đúng định dạng"
        if not isinstance(answer, dict):
            return False, "Zalo trả lời không đúng định dạng"
        if answer.get("error") == 0:
            return True, ""
        return False, f"Zalo từ chối tin nhắn (mã {answer.get('error')}): {str(answer.get('message', ''))[:150]}"
