"""SMS through a USB 3G/4G modem on a serial port (AT commands, UCS-2 PDUs), and its
simulated twin (``sim://``). Protocol, wiring and settings: docs/hardware-serial.md."""

from .modem import CMS_ERRORS, ModemSettings, SendResult, SmsModem
from .pdu import PduError, decode_submit, encode_submit, split_parts

__all__ = ["CMS_ERRORS", "ModemSettings", "PduError", "SendResult", "SmsModem", "decode_submit",
           "encode_submit", "split_parts"]
