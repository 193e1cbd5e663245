"""Appointments (đặt lịch hẹn, issue 15; docs/booking.md): slots from the office's hours,
bookings with a code and a QR, cancel and move with the code, hoarding limits, check-in at
the kiosk (a ticket called ahead of walk-ins: motcua/queue/booked.py), no-shows, and taking a
number from a phone. No Flask here: the routes are motcua/api/booking_routes.py."""
from .codes import normal_code, show_code
from .errors import BookingError
from .service import Bookings

__all__ = ["BookingError", "Bookings", "normal_code", "show_code"]
