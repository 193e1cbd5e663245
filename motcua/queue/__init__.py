"""The queue engine: numbering, ticket states, calls. Pure domain code: no Flask."""
from .errors import QueueError  # noqa: F401
from .engine import QueueEngine  # noqa: F401
from .states import Status  # noqa: F401
from .views import QueueViews  # noqa: F401
