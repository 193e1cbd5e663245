"""Every table of motcua (SQLAlchemy Core). Changes here need an Alembic revision."""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# One row: the office-wide sequence number of committed queue changes.
office_state = Table(
    "office_state", metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False, default=0),
)

fields = Table(
    "fields", metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("name_en", String(120), nullable=False, default=""),
    Column("position", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
)

counters = Table(
    "counters", metadata,
    Column("number", Integer, primary_key=True),
    Column("name", String(120), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("paused", Boolean, nullable=False, default=False),
    Column("pause_reason", String(200), nullable=False, default=""),
    Column("paused_at", UTCDateTime, nullable=True),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(40), nullable=False, unique=True),
    Column("full_name", String(120), nullable=False, default=""),
    Column("password_hash", String(200), nullable=False, default=""),
    Column("role", String(16), nullable=False),
    Column("counters", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("token_version", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False),
)

# Ticket numbering: one row per (field, business day); incremented inside the transaction
# that inserts the ticket. The ticket table's unique constraint is the last guard.
number_counters = Table(
    "number_counters", metadata,
    Column("field", String(32), primary_key=True),
    Column("business_date", Date, primary_key=True),
    Column("last", Integer, nullable=False),
)

tickets = Table(
    "tickets", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token", String(32), nullable=False, unique=True),
    Column("business_date", Date, nullable=False),
    Column("issue_field", String(32), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("number", String(16), nullable=False),
    Column("field", String(32), nullable=False),
    Column("priority", String(16), nullable=True),
    Column("status", String(16), nullable=False),
    Column("counter", Integer, nullable=True),
    Column("target_counter", Integer, nullable=True),
    Column("staff_id", Integer, nullable=True),
    Column("visit_id", Integer, nullable=True),
    Column("source", String(16), nullable=False, default="kiosk"),
    Column("dossier_code", String(64), nullable=True),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("queued_at", UTCDateTime, nullable=False),
    Column("called_at", UTCDateTime, nullable=True),
    Column("recalls", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("issue_field", "business_date", "seq", name="uq_tickets_number_per_day"),
    Index("ix_tickets_queue", "business_date", "status", "field", "queued_at"),
    Index("ix_tickets_waiting", "business_date", "status", "field", "priority"),
    Index("ix_tickets_counter", "counter", "status"),
)

# Every state change of a ticket. Waiting and service times and reports come from here.
ticket_events = Table(
    "ticket_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=False),
    Column("field", String(32), nullable=False),
    Column("counter", Integer, nullable=True),
    Column("staff_id", Integer, nullable=True),
    Column("visit_id", Integer, nullable=True),
    Column("priority", String(16), nullable=True),
    Column("detail", JSON, nullable=True),
    Index("ix_ticket_events_day", "business_date", "action"),
    Index("ix_ticket_events_ticket", "ticket_id"),
    Index("ix_ticket_events_counter", "counter", "business_date", "action"),
)

# A visit: one citizen served at one counter for one field (call ... done/no-show/transfer).
visits = Table(
    "visits", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("field", String(32), nullable=False),
    Column("counter", Integer, nullable=False),
    Column("staff_id", Integer, nullable=True),
    Column("called_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("dossiers", JSON, nullable=True),
    Index("ix_visits_day", "business_date", "field"),
)

ratings = Table(
    "ratings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("visit_id", Integer, ForeignKey("visits.id"), nullable=False, unique=True),
    Column("ticket_id", Integer, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("level", String(16), nullable=False),
    Column("reasons", JSON, nullable=True),
    Column("comment", String(500), nullable=False, default=""),
    Column("field", String(32), nullable=False),
    Column("counter", Integer, nullable=False),
    Column("staff_id", Integer, nullable=True),
    Column("source", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# Answers already given for an Idempotency-Key (per scope, e.g. "counter:3:call-next").
idempotency = Table(
    "idempotency", metadata,
    Column("scope", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("response", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Failed attempts (logins, lookup secrets) for rate limiting across server processes.
throttle = Table(
    "throttle", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_throttle_key", "key", "at"),
)

print_jobs = Table(
    "print_jobs", metadata,
    Column("id", String(40), primary_key=True),
    Column("ticket_id", Integer, nullable=True),
    Column("kind", String(16), nullable=False),
    Column("device", String(40), nullable=False),
    Column("state", String(16), nullable=False),
    Column("error", String(300), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

dossiers = Table(
    "dossiers", metadata,
    Column("code", String(64), primary_key=True),
    Column("procedure", String(500), nullable=False),
    Column("field", String(200), nullable=False, default=""),
    Column("applicant", String(200), nullable=False, default=""),
    Column("applicant_id", String(20), nullable=False, default=""),
    Column("phone", String(20), nullable=False, default=""),
    Column("received_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", Integer, nullable=False),
    Column("lookup_secret", String(32), nullable=False, default=""),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("returned_at", UTCDateTime, nullable=True),
    Column("new_due_at", UTCDateTime, nullable=True),
    Column("apology", String(500), nullable=False, default=""),
    Column("source", String(16), nullable=False, default="import"),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_dossiers_status", "status"),
)

dossier_events = Table(
    "dossier_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(64), ForeignKey("dossiers.code"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(24), nullable=False),
    Column("status", Integer, nullable=True),
    Column("staff_id", Integer, nullable=True),
    Column("detail", JSON, nullable=True),
    Index("ix_dossier_events_code", "code"),
)

notices = Table(
    "notices", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("text", String(500), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    # On the screens from `starts_at` to `ends_at` (null: at once / until taken off); "urgent" first.
    Column("starts_at", UTCDateTime, nullable=True),
    Column("ends_at", UTCDateTime, nullable=True),
    Column("priority", String(8), nullable=False, default="normal", server_default="normal"),
)

# Signed-in sessions (the counter screen's cookie, and the user tokens issued from it or from
# /auth/token): ended on the server at sign-out, at `expires_at` (a working day), or when the
# account's token_version moves on (password changed).
auth_sessions = Table(
    "auth_sessions", metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("token_version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_auth_sessions_user", "user_id"),
    Index("ix_auth_sessions_expires", "expires_at"),
)

# Every change made from the administrator's screens (issue 12): who, what, when, before and
# after (JSON), and the personal-data erasures of the retention job (motcua/configure/audit.py).
admin_audit = Table(
    "admin_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("user_id", Integer, nullable=True),
    Column("username", String(40), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(120), nullable=False),
    Column("summary", String(500), nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Index("ix_admin_audit_at", "at"),
)

# Device agents (issue 16, docs/agents.md): print jobs for a printer on an agent's PC (the
# document kept until the agent has it; the job's state stays in print_jobs), the numbers
# reserved for an agent to issue while its link is down, and the offline tickets handed over.
agent_jobs = Table(
    "agent_jobs", metadata,
    Column("job_id", String(40), primary_key=True),
    Column("agent", String(40), nullable=False),
    Column("device", String(40), nullable=False),
    Column("document", JSON, nullable=False),
    Column("timeout_s", Float, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("finished", Boolean, nullable=False, default=False),
    Index("ix_agent_jobs_open", "agent", "finished"),
)

agent_blocks = Table(
    "agent_blocks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agent", String(40), nullable=False),
    Column("field", String(32), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("first", Integer, nullable=False),
    Column("last", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_agent_blocks_agent_day", "agent", "business_date", "field"),
)

agent_handovers = Table(
    "agent_handovers", metadata,
    Column("uid", String(40), primary_key=True),
    Column("agent", String(40), nullable=False),
    Column("ticket_id", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Several server processes (0011): the process holding an agent's link (its `holder` id, a
# heartbeat `seen_at`) and the states of the agent's devices as reported to it, read by the
# other processes for their device lists (motcua/devices/remote.py).
agent_links = Table(
    "agent_links", metadata,
    Column("agent", String(40), primary_key=True),
    Column("holder", String(40), nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("states", JSON, nullable=False),
)

# The administrator's test call and unplug/replug of an agent's device asked through a process
# that does not hold the agent's link (0013): the holder takes the row (`taken_by`) and does it.
agent_requests = Table(
    "agent_requests", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agent", String(40), nullable=False),
    Column("device", String(40), nullable=False),
    Column("action", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("taken_by", String(40), nullable=True),
    Index("ix_agent_requests_open", "agent", "taken_by"),
)

# Appointments (issue 15, docs/booking.md): one row per booking; status booked -> checked_in /
# late (checked in after the window: a normal ticket) / cancelled / no_show (never checked in).
bookings = Table(
    "bookings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("field", String(32), nullable=False),
    Column("procedure", String(64), nullable=True),
    Column("procedure_name", String(500), nullable=False, default=""),
    Column("business_date", Date, nullable=False),
    Column("slot_start", UTCDateTime, nullable=False),
    Column("slot_end", UTCDateTime, nullable=False),
    Column("name", String(200), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("status", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("staff_id", Integer, nullable=True),
    Column("ticket_id", Integer, nullable=True),
    Column("moves", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("checked_in_at", UTCDateTime, nullable=True),
    Index("ix_bookings_slot", "field", "slot_start"),
    Index("ix_bookings_phone", "phone", "business_date"),
    Index("ix_bookings_day", "business_date", "status"),
    Index("ix_bookings_ticket", "ticket_id", unique=True),  # one booking per ticket (0012)
)

# One row per slot or phone number that bookings lock while they count (an upsert takes the
# row's lock on PostgreSQL, so two bookings of the last place in a slot never both succeed).
booking_locks = Table(
    "booking_locks", metadata,
    Column("key", String(100), primary_key=True),
    Column("n", Integer, nullable=False, default=0),
)

# Messages to citizens (issue 15, docs/messages.md): a phone number given for one ticket (opt-in),
# the dossiers received during its visits (their "ready" message), and the outbox: one row per
# message and channel, retried until sent or failed. Erased after [messages] retention_days
# (motcua.messages.erase_older_than).
message_subscriptions = Table(
    "message_subscriptions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("phone", String(20), nullable=False),
    Column("phone_masked", String(20), nullable=False),
    Column("source", String(16), nullable=False),
    Column("near_sent", Boolean, nullable=False, default=False),
    Column("called_sent", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_message_subscriptions_ticket", "ticket_id"),
    Index("ix_message_subscriptions_day", "business_date"),
)

message_dossiers = Table(
    "message_dossiers", metadata,
    Column("subscription_id", Integer, primary_key=True),
    Column("dossier_code", String(64), primary_key=True),
    Column("ready_sent", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_message_dossiers_code", "dossier_code"),
)

message_outbox = Table(
    "message_outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription_id", Integer, nullable=True),
    Column("ticket_id", Integer, nullable=True),
    Column("kind", String(16), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("phone_masked", String(20), nullable=False),
    Column("body", String(1000), nullable=False),
    Column("data", JSON, nullable=True),
    Column("dedupe", String(120), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_try_at", UTCDateTime, nullable=False),
    Column("last_error", String(300), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Index("ix_message_outbox_due", "status", "next_try_at"),
    Index("ix_message_outbox_created", "created_at"),
)

# Service-level alerts (motcua/alerts.py): a wait over its threshold in a field, a counter
# paused too long, a printer out of paper; open while `ended_at` is null.
alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(24), nullable=False),  # wait_long, counter_paused, printer_paper
    Column("subject", String(64), nullable=False),  # a field code, a counter number, a device name
    Column("message", String(300), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("detail", JSON, nullable=True),
    Index("ix_alerts_open", "kind", "subject", "ended_at"),
    Index("ix_alerts_started", "started_at"),
)

# The running office (motcua/configure/shared.py): the office file of the last change made from the
# administrator's screens, one row (id 1); every server process applies a newer `version`.
office_config = Table(
    "office_config", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    Column("toml", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
