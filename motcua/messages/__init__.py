"""Messages to citizens (issue 15, docs/messages.md): opt-in with a phone number, the outbox
with retries, SMS through the modem device and Zalo ZNS.

- `MessageService` (`service.py`): one per app (`services.messages`), a bus subscriber with
  its own worker; `opt_in`, `listing`, `options` for the routes.
- `erase_older_than(conn, cutoff)` (`outbox.py`): the retention job's call, inside its write
  transaction: opt-ins, dossier links and messages created before `cutoff` are deleted.
- `normalise_phone`, `mask_phone` (`phones.py`): "0912345678" and "09xx xxx 678".
"""
from .outbox import erase_older_than
from .phones import PhoneError, mask_phone, normalise_phone
from .service import MessageService

__all__ = ["MessageService", "PhoneError", "erase_older_than", "mask_phone", "normalise_phone"]
