"""Thermal ticket printer driver (ESC/POS): document model, encoder, links, device object.

The core builds a :class:`PrintDocument`, submits it to a :class:`TicketPrinter`, and
listens to its callbacks (``on_state(name, state, detail)`` as every driver, drivers.state;
``on_job(job_id, state, error)``). Vietnamese text is printed as raster images (code pages cannot
print it); see docs/hardware-printer.md.
"""

from .device import TicketPrinter
from .jobs import JOB_STATES, DeviceStatus, JobInfo
from .document import BigText, Cut, Feed, ImageBlock, PrintDocument, QRCode, Rule, Text
from .encoder import encode_document
from .profile import PRESETS, PrinterProfile, get_profile
from .status import PrinterStatus, status_from_replies
from .transport import Transport, TransportError, make_transport
from .virtual import VirtualPrinter, VirtualTransport

__all__ = [
    "BigText",
    "Cut",
    "DeviceStatus",
    "Feed",
    "ImageBlock",
    "JOB_STATES",
    "JobInfo",
    "PRESETS",
    "PrintDocument",
    "PrinterProfile",
    "PrinterStatus",
    "QRCode",
    "Rule",
    "Text",
    "TicketPrinter",
    "Transport",
    "TransportError",
    "VirtualPrinter",
    "VirtualTransport",
    "encode_document",
    "get_profile",
    "make_transport",
    "status_from_replies",
]
