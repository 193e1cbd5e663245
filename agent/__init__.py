"""The motcua device agent: runs the hardware of one PC (ticket printer, scanners and camera,
keypads, LED boards, rating boxes) for a motcua server elsewhere, over Socket.IO, and keeps
the kiosk issuing numbers while the link is down (docs/agents.md).

It imports only `drivers/`, `motcua_runtime` and the protocol `agentproto`, never the server
core (tests/test_architecture.py): it runs on a kiosk PC (Windows or Debian) with only these.

- `main.py`: the command line (`python -m agent` or `motcua agent`);
- `link.py`: the Socket.IO link to the server (reconnecting) and the messages;
- `hardware.py`: the drivers of the devices the server gives this agent;
- `journal.py`: what survives a restart (print jobs seen, numbers kept, offline tickets);
- `offline.py`: issuing from the kept numbers, the offline ticket's paper;
- `localweb.py`: the local page and endpoint on 127.0.0.1 the kiosk falls back to;
- `win32.py`: printing to an installed Windows printer.
"""
