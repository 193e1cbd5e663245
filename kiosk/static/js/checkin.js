// "Đã đặt lịch hẹn": check a booking in at the kiosk (docs/booking.md). Its QR (read by the
// camera or a scanner: the same path as receipt codes) or its typed code; inside the window a
// ticket called ahead at the slot time; too early, when to come back; too late, a normal ticket.
(function (global) {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var ALPHABET = "ACEFHJKMNPRTUVWXY3479";
  var CODE_RE = new RegExp("^[" + ALPHABET + "]{8}$");

  // The booking code in a scanned or typed text (the QR holds ".../dat-lich/<code>"), or null.
  function bookingCode(text) {
    text = String(text || "").trim();
    var m = /\/dat-lich\/([A-Za-z0-9-]{8,9})(?:[/?#]|$)/.exec(text);
    if (m) { text = m[1]; }
    var code = text.replace(/[\s-]/g, "").toUpperCase();
    return CODE_RE.test(code) ? code : null;
  }

  function init(ctx) {
    var api = ctx.api, screens = ctx.screens, busy = false;
    function render(v) {
      var el = $("c-code");
      el.textContent = v || "…";
      el.classList.toggle("empty", !v);
      $("c-error").classList.add("invisible");
    }
    var kb = KioskKeyboard.attach($("c-keyboard"), {
      layout: "code", maxLength: 12, enterLabel: "Lấy số", onChange: render,
      onEnter: function (v) { checkIn(v); }
    });
    function error(msg) {
      var el = $("c-error");
      el.textContent = msg;
      el.classList.remove("invisible", "hidden");
    }
    function open() { kb.set(""); render(""); screens.show("checkin"); }
    function checkIn(text) {
      var code = bookingCode(text);
      if (!code) {
        if (screens.current !== "checkin") { open(); }
        error("Mã lịch hẹn gồm 8 chữ và số, ví dụ KX4M-7TRW.");
        return;
      }
      if (busy) { return; }
      busy = true;
      document.body.classList.add("busy");
      api.post("/api/v1/appointments/" + code + "/check-in", {}, { "Idempotency-Key": MotcuaApi.newKey() }).then(function (r) {
        ctx.showTicket(r.ticket, r.booking, r.late);
      }).catch(function (e) {
        if (ctx.lost(e)) { return; }
        // Too early (when to come back), cancelled, past: a plain message the citizen reads.
        if (e && e.status === 409) { ctx.showMessage(e); return; }
        if (screens.current !== "checkin") { open(); }
        error((e && e.message) || "Không lấy được số. Xin mời thử lại.");
      }).then(function () { busy = false; document.body.classList.remove("busy"); });
    }
    $("go-checkin").addEventListener("click", open);
    return { open: open, checkIn: checkIn, bookingCode: bookingCode };
  }
  global.KioskCheckin = { init: init, bookingCode: bookingCode };
})(window);
