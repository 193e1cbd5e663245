"""The device layer: the only part of motcua that drives hardware (it alone imports `drivers/`).

- `registry.py`: `DeviceRegistry` (one driver object per configured device, their states,
  `device:status`) and `DeviceContext` (what it needs from the application);
- `bindings.py`: keypads -> queue engine, rating boxes -> ratings, scanners and cameras ->
  dossier look-up (`kiosk:scan`); queue states -> LED boards and keypad displays;
- `print_jobs.py`: printing on `ticket:issued`, reprints, checklists, `print_jobs` rows and
  `print:job` progress; `documents.py`: what goes on paper.
- `remote.py`: devices on another PC, driven by a device agent (docs/agents.md); `offline.py`:
  the numbers kept for an agent's kiosk to issue offline, and their hand-over.
"""
from .registry import STATE_VI, DeviceContext, DeviceRegistry

__all__ = ["STATE_VI", "DeviceContext", "DeviceRegistry"]
