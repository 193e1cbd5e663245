"""The SMS modem device (kind "modem"): the driver (drivers/modem, one worker thread per
port) behind the one method the messages' outbox calls, `submit(msg, done)`.

`submit` only queues the message on the modem's thread and returns; `done(ok, error)` comes
back from that thread when the modem confirmed or refused it (motcua/messages/service.py
puts it on its own queue). A `sim://` modem is the simulated twin (`modem.simulator`: the
texts it "sent"), unplugged and replugged through `DeviceRegistry.simulate`.
"""
from __future__ import annotations

from typing import Any, Callable

from config.schema import DeviceConfig
from drivers.modem import ModemSettings, SendResult, SmsModem


class ModemChannel:
    name = "sms"

    def __init__(self, modem: SmsModem):
        self.modem = modem

    def submit(self, msg: dict[str, Any], done: Callable[[bool, str], None]) -> None:
        def finished(result: SendResult) -> None:
            done(result.ok, result.error)

        self.modem.send(msg["phone"], msg["text"], finished)

    @property
    def simulator(self) -> Any:
        return self.modem.simulator


def make_modem(dev: DeviceConfig, on_state: Callable[..., None]) -> SmsModem:
    opts = dev.options
    settings = ModemSettings(send_timeout=float(opts.get("send_timeout_s", 60.0)),
                             check_interval=float(opts.get("check_interval_s", 30.0)))
    return SmsModem(dev.url, name=dev.name, on_state=on_state, settings=settings)
