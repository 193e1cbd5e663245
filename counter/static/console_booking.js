// The counter console: book a time on a citizen's behalf (docs/booking.md). The same API as the
// public booking page, sent with the console's sign-in, so the booking's source is "counter".
(function () {
  "use strict";
  var cfg = window.MOTCUA_COUNTER;
  var api = new MotcuaApi(cfg.token);
  var $ = function (id) { return document.getElementById(id); };
  var btn = $("b-book"), dlg = $("dlg-book");
  if (!btn || !dlg) { return; }

  function option(sel, value, label, disabled) {
    var o = document.createElement("option");
    o.value = value; o.textContent = label; o.disabled = !!disabled;
    sel.appendChild(o);
  }
  function say(text, err) {
    var m = $("bk-msg");
    m.className = "bk-msg" + (err ? " err" : "");
    m.textContent = text || "";
  }
  function placeholder(sel, label) { sel.innerHTML = ""; option(sel, "", label, true); sel.value = ""; }

  function loadSlots() {
    var field = $("bk-field").value, day = $("bk-day").value, sel = $("bk-slot");
    placeholder(sel, "Đang tải…");
    if (!field || !day) { placeholder(sel, "Chọn ngày trước"); return; }
    api.get("/api/v1/appointments/slots?field=" + encodeURIComponent(field) + "&day=" + encodeURIComponent(day))
      .then(function (slots) {
        placeholder(sel, slots.length ? "Chọn giờ" : "Ngày này không còn khung giờ");
        slots.forEach(function (s) {
          option(sel, s.start, s.start + " – " + s.end + (s.left ? " (còn " + s.left + " chỗ)" : " (hết chỗ)"), !s.left);
        });
      }).catch(function (e) { placeholder(sel, "Không tải được"); say(e && e.message, true); });
  }
  function loadDays() {
    var field = $("bk-field").value, sel = $("bk-day");
    placeholder(sel, "Đang tải…");
    placeholder($("bk-slot"), "Chọn ngày trước");
    if (!field) { placeholder(sel, "Chọn lĩnh vực trước"); return; }
    api.get("/api/v1/appointments/days?field=" + encodeURIComponent(field)).then(function (days) {
      placeholder(sel, days.length ? "Chọn ngày" : "Không còn ngày nhận đặt lịch");
      days.forEach(function (d) { option(sel, d.day, d.text + (d.free ? " (còn " + d.free + " chỗ)" : " (hết chỗ)"), !d.free); });
    }).catch(function (e) { placeholder(sel, "Không tải được"); say(e && e.message, true); });
  }
  function open() {
    say("");
    $("bk-name").value = ""; $("bk-phone").value = "";
    var sel = $("bk-field");
    placeholder(sel, "Đang tải…");
    placeholder($("bk-day"), "Chọn lĩnh vực trước");
    placeholder($("bk-slot"), "Chọn ngày trước");
    if (!dlg.open) { dlg.showModal(); }
    api.get("/api/v1/appointments/options").then(function (o) {
      var fields = (o.fields || []).filter(function (f) { return f.bookable; });
      if (!o.enabled || !fields.length) { placeholder(sel, "Không nhận đặt lịch"); say("Bộ phận một cửa này chưa nhận đặt lịch hẹn.", true); return; }
      placeholder(sel, "Chọn lĩnh vực");
      var mine = (btn.dataset.fields || "").split(",");  // this counter's first field is chosen
      fields.forEach(function (f) { option(sel, f.code, f.name); });
      var first = fields.filter(function (f) { return mine.indexOf(f.code) >= 0; })[0];
      if (first) { sel.value = first.code; loadDays(); }
    }).catch(function (e) { say(e && e.message, true); });
  }
  $("bk-field").addEventListener("change", loadDays);
  $("bk-day").addEventListener("change", loadSlots);
  btn.addEventListener("click", function () { btn.blur(); open(); });
  $("bk-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var go = $("bk-go");
    if (!$("bk-slot").value) { say("Hãy chọn ngày và giờ hẹn.", true); return; }
    go.disabled = true;
    say("Đang đặt lịch…");
    api.post("/api/v1/appointments", { field: $("bk-field").value, day: $("bk-day").value, start: $("bk-slot").value,
      name: $("bk-name").value, phone: $("bk-phone").value }).then(function (b) {
      var m = $("bk-msg");
      m.className = "bk-msg";
      m.textContent = "";
      var line = function (t) { var d = document.createElement("div"); d.textContent = t; m.appendChild(d); return d; };
      line("Đã đặt lịch hẹn: " + b.day_text + ", " + b.start + " – " + b.end + " (người đến: " + b.name + ").");
      var c = line("Mã lịch hẹn: ");
      var code = document.createElement("span");
      code.className = "bk-code"; code.dataset.testid = "book-code"; code.textContent = b.code;
      c.appendChild(code);
      line("Xin mời công dân ghi lại mã này; khi đến, nhập mã tại máy lấy số.");
      $("bk-name").value = ""; $("bk-phone").value = "";
      loadSlots();
    }).catch(function (e) {
      say((e && e.message) || "Không đặt được lịch. Xin mời thử lại.", true);
      if (e && e.code === "slot_full") { loadSlots(); }
    }).then(function () { go.disabled = false; });
  });
})();
