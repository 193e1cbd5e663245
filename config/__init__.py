"""Office configuration: schema, defaults and validation.

This package imports nothing of motcua's: it only describes and checks an office.
"""
from .schema import (  # noqa: F401
    OPTIONS_BY_KIND,
    CounterConfig,
    DeviceConfig,
    DeviceOptions,
    FieldConfig,
    HoursConfig,
    NumberingConfig,
    OfficeConfig,
    OfficeInfo,
    QueueConfig,
    StaffConfig,
)
from .loader import ConfigError, load_config, load_config_text, sample_path  # noqa: F401
