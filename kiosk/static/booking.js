// The public booking page (/dat-lich): choose a field, a day and a slot, give a name and a phone
// number, get a code and a QR; cancel or move a booking with its code; take a number from a phone.
(function () {
  "use strict";
  var api = new MotcuaApi();
  var $ = function (id) { return document.getElementById(id); };
  var boot = window.MOTCUA_BOOKING || {};
  var st = { options: null, field: null, day: null, slot: null, booking: null, joinField: null };

  function el(tag, cls, vi, en) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (vi !== undefined) { e.appendChild(document.createTextNode(vi)); }
    if (en) { var s = document.createElement("span"); s.className = "en"; s.textContent = en; e.appendChild(s); }
    return e;
  }
  function choice(box, vi, en, onPick, testid, disabled) {
    var b = el("button", "bk-choice", vi, en);
    b.type = "button";
    if (testid) { b.dataset.testid = testid; }
    if (disabled) { b.disabled = true; }
    b.addEventListener("click", function () {
      box.querySelectorAll(".bk-choice").forEach(function (x) { x.setAttribute("aria-pressed", "false"); });
      b.setAttribute("aria-pressed", "true");
      onPick();
    });
    box.appendChild(b);
    return b;
  }
  function showError(id, e) {
    var box = $(id);
    box.textContent = (e && e.message) || "Không kết nối được với máy chủ. Xin mời thử lại.";
    box.classList.remove("hidden");
  }
  function hideError(id) { $(id).classList.add("hidden"); }
  function muted(box, text) { box.innerHTML = ""; box.appendChild(el("p", "muted", text)); }

  // Tabs ----------------------------------------------------------------------------------------
  function tab(name) {
    document.querySelectorAll(".bk-tab").forEach(function (b) { b.setAttribute("aria-selected", b.dataset.tab === name ? "true" : "false"); });
    document.querySelectorAll(".bk-panel").forEach(function (p) { p.classList.toggle("hidden", p.dataset.panel !== name); });
    window.scrollTo(0, 0);
  }
  document.querySelectorAll(".bk-tab").forEach(function (b) { b.addEventListener("click", function () { tab(b.dataset.tab); }); });

  // Days and slots (new booking, and moving one) ------------------------------------------------------
  function loadDays(field, daysBox, slotsBox, onSlot) {
    muted(daysBox, "Đang tải…"); muted(slotsBox, "Hãy chọn ngày trước.");
    return api.get("/api/v1/appointments/days?field=" + encodeURIComponent(field)).then(function (days) {
      daysBox.innerHTML = "";
      if (!days.length) { muted(daysBox, "Không còn ngày nào nhận đặt lịch cho lĩnh vực này."); return; }
      days.forEach(function (d) {
        choice(daysBox, d.text, d.free ? "còn " + d.free + " chỗ" : "hết chỗ", function () {
          loadSlots(field, d.day, slotsBox, onSlot);
        }, "day-" + d.day, !d.free);
      });
    }).catch(function (e) { muted(daysBox, (e && e.message) || "Không tải được."); });
  }
  function loadSlots(field, day, box, onSlot) {
    muted(box, "Đang tải…");
    api.get("/api/v1/appointments/slots?field=" + encodeURIComponent(field) + "&day=" + day).then(function (slots) {
      box.innerHTML = "";
      slots.forEach(function (s) {
        choice(box, s.start + " – " + s.end, s.left ? "còn " + s.left + " chỗ" : "hết chỗ", function () { onSlot(day, s); },
          "slot-" + s.start.replace(":", ""), !s.left);
      });
      if (!slots.length) { muted(box, "Ngày này không còn khung giờ."); }
    }).catch(function (e) { muted(box, (e && e.message) || "Không tải được."); });
  }

  // A new booking ---------------------------------------------------------------------------------
  function pickField(f) {
    st.field = f; st.day = null; st.slot = null;
    loadDays(f.code, $("days"), $("slots"), function (day, s) { st.day = day; st.slot = s; hideError("form-error"); });
    var sel = $("proc");
    sel.length = 1;
    api.get("/api/v1/procedures?limit=200&field=" + encodeURIComponent(f.code)).then(function (list) {
      list.forEach(function (p) { var o = document.createElement("option"); o.value = p.code; o.textContent = p.name; sel.appendChild(o); });
      $("proc-box").classList.toggle("hidden", !list.length);
    }).catch(function () { $("proc-box").classList.add("hidden"); });
  }
  $("form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    hideError("form-error");
    if (!st.field) { showError("form-error", { message: "Hãy chọn lĩnh vực." }); return; }
    if (!st.slot) { showError("form-error", { message: "Hãy chọn ngày và giờ hẹn." }); return; }
    var sel = $("proc"), body = { field: st.field.code, day: st.day, start: st.slot.start,
      name: $("name").value, phone: $("phone").value };
    if (sel.value) { body.procedure = sel.value; body.procedure_name = sel.options[sel.selectedIndex].textContent; }
    $("book").disabled = true;
    api.post("/api/v1/appointments", body).then(function (b) {
      showBooking(b, "Đã đặt lịch hẹn. Xin giữ mã này (chụp lại màn hình).");
      $("name").value = ""; $("phone").value = "";
    }).catch(function (e) {
      showError("form-error", e);
      if (e && e.code === "slot_full") { loadSlots(st.field.code, st.day, $("slots"), function (d, s) { st.day = d; st.slot = s; }); }
    }).then(function () { $("book").disabled = false; });
  });

  // One booking ------------------------------------------------------------------------------------
  function setText(id, v) { $(id).textContent = v || ""; }
  function showBooking(b, title) {
    st.booking = b;
    setText("b-title", title || "");
    $("b-title").classList.toggle("hidden", !title);
    setText("b-code", b.code);
    $("b-qr").src = "/dat-lich/" + encodeURIComponent(b.code.replace("-", "")) + "/qr.svg";
    setText("b-field", b.field_name);
    setText("b-proc", b.procedure_name);
    document.querySelectorAll(".b-proc").forEach(function (x) { x.classList.toggle("hidden", !b.procedure_name); });
    setText("b-day", b.day_text);
    setText("b-time", b.start + " – " + b.end);
    setText("b-name", b.name);
    setText("b-phone", b.phone);
    setText("b-status", b.status_label);
    $("b-status").className = "st-" + b.status;
    setText("b-hint", b.status === "booked" ? "Đến nơi, xin mời quét mã QR này hoặc nhập mã tại máy lấy số, từ " +
      b.checkin_from + " đến " + b.checkin_until + ". Ông/bà sẽ được gọi ưu tiên từ " + b.start + "." : "");
    $("b-actions").classList.toggle("hidden", !b.can_change);
    ["b-confirm", "b-movebox", "b-error"].forEach(function (id) { $(id).classList.add("hidden"); });
    tab("booking");
  }
  function findBooking(code) {
    hideError("find-error");
    return api.get("/api/v1/appointments/" + encodeURIComponent(code.trim())).then(function (b) { showBooking(b, ""); })
      .catch(function (e) { tab("manage"); showError("find-error", e); });
  }
  $("find").addEventListener("submit", function (ev) { ev.preventDefault(); findBooking($("code").value); });
  $("b-cancel").addEventListener("click", function () { $("b-confirm").classList.remove("hidden"); $("b-movebox").classList.add("hidden"); });
  $("b-cancel-no").addEventListener("click", function () { $("b-confirm").classList.add("hidden"); });
  $("b-cancel-yes").addEventListener("click", function () {
    api.post("/api/v1/appointments/" + encodeURIComponent(st.booking.code) + "/cancel", {}).then(function (b) {
      showBooking(b, "Đã hủy lịch hẹn.");
    }).catch(function (e) { showError("b-error", e); });
  });
  $("b-move").addEventListener("click", function () {
    $("b-confirm").classList.add("hidden");
    $("b-movebox").classList.remove("hidden");
    loadDays(st.booking.field, $("m-days"), $("m-slots"), function (day, s) {
      api.post("/api/v1/appointments/" + encodeURIComponent(st.booking.code) + "/move", { day: day, start: s.start })
        .then(function (b) { showBooking(b, "Đã đổi giờ hẹn."); })
        .catch(function (e) { showError("b-error", e); });
    });
  });
  $("b-new").addEventListener("click", function () { tab("new"); });

  // A number from a phone ---------------------------------------------------------------------------
  $("join").addEventListener("submit", function (ev) {
    ev.preventDefault();
    hideError("join-error");
    if (!st.joinField) { showError("join-error", { message: "Hãy chọn lĩnh vực." }); return; }
    api.post("/api/v1/appointments/join", { field: st.joinField.code, phone: $("join-phone").value }).then(function (tk) {
      location.href = "/t/" + encodeURIComponent(tk.token);  // the ticket's live page, as its QR opens
    }).catch(function (e) { showError("join-error", e); });
  });

  // Start ---------------------------------------------------------------------------------------------
  api.get("/api/v1/appointments/options").then(function (o) {
    st.options = o;
    if (!o.enabled) { $("bk-disabled").classList.remove("hidden"); $("p-new").classList.add("hidden"); return; }
    var box = $("fields"); box.innerHTML = "";
    o.fields.filter(function (f) { return f.bookable; }).forEach(function (f) {
      choice(box, f.name, f.name_en, function () { pickField(f); }, "field-" + f.code);
    });
    var remote = o.fields.filter(function (f) { return f.remote; });
    document.querySelector("[data-tab=join]").classList.toggle("hidden", !remote.length);
    var jb = $("join-fields"); jb.innerHTML = "";
    remote.forEach(function (f) { choice(jb, f.name, f.name_en, function () { st.joinField = f; }, "join-field-" + f.code); });
    if (!o.open.open) { jb.appendChild(el("p", "bk-error", o.open.message)); }
  }).catch(function () {});
  if (boot.code) { findBooking(boot.code); } else { tab("new"); }
})();
