// motcua realtime client: one Socket.IO connection, a snapshot first, then changes in
// sequence. A gap in `seq` (or a reconnect) asks the server for a fresh snapshot.
(function (global) {
  "use strict";
  function Realtime(opts) {
    opts = opts || {};
    this.token = opts.token || null;
    this.seq = -1;
    this.handlers = {};
    this.lostTimer = null;
    this.lostAfterMs = opts.lostAfterMs || 5000;
    this.connEl = opts.connEl || null;
    var self = this;
    // A phone page follows its own ticket (`ticket:update`), not the whole queue.
    var auth = this.token ? { token: this.token } : opts.ticket ? { ticket: opts.ticket } : {};
    this.socket = io({ transports: ["websocket", "polling"], auth: auth, reconnectionDelay: 500,
                       reconnectionDelayMax: 3000 });
    this.socket.on("connect", function () { self._online(); });
    this.socket.on("disconnect", function () { self._offline(); });
    this.socket.on("connect_error", function (err) {
      self._offline();
      self._emit("error", err && err.data ? err.data : { message: String(err) });
    });
    this.socket.on("queue:snapshot", function (snap) {
      self.seq = snap.seq;
      self._emit("snapshot", snap);
    });
    // queue:changed carries the whole public state, coalesced during bursts (seq may jump):
    // it is complete, so a jump is fine. prev_seq is the server's previous state: holding
    // less than that means a state was missed, so ask for a snapshot to be sure.
    this.socket.on("queue:changed", function (state) {
      if (self.seq >= 0 && typeof state.prev_seq === "number" && state.prev_seq > self.seq) {
        self.resync(); return;
      }
      if (state.seq <= self.seq) { return; }
      self.seq = state.seq;
      self._emit("changed", state);
    });
    ["ticket:called", "ticket:issued", "ticket:finished", "ticket:transferred", "kiosk:scan",
     "device:status", "print:job", "dossier:updated", "rating:prompt", "rating:closed", "notice:changed",
     "config:changed", "ticket:update", "hello"].forEach(function (name) {
      self.socket.on(name, function (p) { self._emit(name, p); });
    });
  }
  Realtime.prototype.on = function (name, fn) { (this.handlers[name] = this.handlers[name] || []).push(fn); return this; };
  Realtime.prototype._emit = function (name, p) {
    (this.handlers[name] || []).forEach(function (fn) { try { fn(p); } catch (e) { console.error(e); } });
  };
  Realtime.prototype.resync = function () { this.socket.emit("queue:resync"); };
  Realtime.prototype._online = function () {
    clearTimeout(this.lostTimer); this.lostTimer = null;
    if (this.connEl) { this.connEl.classList.remove("lost"); }
    this._emit("online", {});
  };
  Realtime.prototype._offline = function () {
    var self = this;
    if (this.lostTimer) { return; }
    this.lostTimer = setTimeout(function () {
      if (self.connEl) { self.connEl.classList.add("lost"); }
      self._emit("lost", {});
    }, this.lostAfterMs);
  };
  global.MotcuaRealtime = Realtime;
})(window);
