"""motcua: queue, kiosk, lookup and display system for Vietnamese one-stop offices."""

__version__ = "0.1.0"
