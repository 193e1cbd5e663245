"""The running office configuration, changed from the administrator's screens without a
restart (`live.py`), written back as TOML (`toml_out.py`), audited (`audit.py`), and the
personal-data retention job (`retention.py`)."""
from .audit import AuditLog
from .live import ConfigRefused, LiveConfig, load_saved, saved_path, validate
from .toml_out import dump_config

__all__ = ["AuditLog", "ConfigRefused", "LiveConfig", "dump_config", "load_saved", "saved_path", "validate"]
