// Office overview: every counter, waiting per field, longest wait, paused counters. Refreshed on
// every queue change (at most twice a second) and every 15 s; ages tick locally in between.
(function () {
  "use strict";
  var cfg = window.MOTCUA_OVERVIEW;
  var api = new MotcuaApi(cfg.token);
  var rt = new MotcuaRealtime({ token: cfg.token, connEl: document.getElementById("conn"), lostAfterMs: 1500 });
  var $ = function (id) { return document.getElementById(id); };
  var data = null, fetchedAt = 0, timer = null, busy = false;

  // A time spent, said as a duration ("45 giây", "12 phút", "1 giờ 5 phút"), never like a clock time.
  function dur(s) {
    if (s === null || s === undefined) { return "—"; }
    var m = Math.floor(s / 60);
    if (m < 1) { return s + " giây"; }
    if (m < 60) { return m + " phút"; }
    return Math.floor(m / 60) + " giờ" + (m % 60 ? " " + (m % 60) + " phút" : "");
  }
  function el(tag, cls, txt) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (txt !== undefined) { e.textContent = txt; }
    return e;
  }
  function since(s) { return s === null || s === undefined ? null : s + Math.floor((Date.now() - fetchedAt) / 1000); }

  function load() {
    if (busy) { return; }
    busy = true;
    api.get("/api/v1/overview").then(function (d) { data = d; fetchedAt = Date.now(); render(); })
      .catch(function (e) {
        if (e.status === 401) { location.reload(); return; }
        motcuaToast(e.message, true);
      })
      .then(function () { busy = false; });
  }
  function soon() { if (!timer) { timer = setTimeout(function () { timer = null; load(); }, 400); } }

  function render() {
    if (!data) { return; }
    $("ov-waiting").textContent = data.waiting_total;
    $("ov-served").textContent = data.served_today;
    $("ov-paused-n").textContent = data.paused.length;
    var pl = $("ov-paused"); pl.innerHTML = "";
    data.paused.forEach(function (p) {
      pl.appendChild(el("li", "", p.name + ": " + p.reason + " (" + dur(since(p.paused_for_s)) + ")"));
    });
    var cs = $("ov-counters"); cs.innerHTML = "";
    data.counters.forEach(function (c) {
      var card = el("article", "card ov-counter state-" + c.state);
      card.dataset.counter = c.number;
      card.appendChild(el("h3", "", c.name));
      card.appendChild(el("span", "state-tag", c.state_label));
      card.appendChild(el("div", "num", c.current ? c.current.number : "—"));
      var lines = [];
      if (c.current) { lines.push(c.current.service_name + " · đã " + dur(since(c.current_for_s))); }
      if (c.paused) { lines.push("Lý do: " + c.pause_reason); }
      lines.push("Đang chờ: " + c.waiting + " · Đã phục vụ: " + c.served_today);
      if (c.on_hold) { lines.push("Đang tạm giữ: " + c.on_hold); }
      var r = c.ratings_today, total = r.very_satisfied + r.satisfied + r.unsatisfied;
      if (total) { lines.push("Đánh giá: " + r.very_satisfied + " rất hài lòng, " + r.satisfied + " hài lòng, " + r.unsatisfied + " không hài lòng"); }
      lines.forEach(function (t) { card.appendChild(el("div", "muted", t)); });
      cs.appendChild(card);
    });
    var tb = $("ov-fields"); tb.innerHTML = "";
    data.services.forEach(function (f) {
      var tr = el("tr"); tr.dataset.field = f.code;
      tr.appendChild(el("td", "", f.name));
      tr.appendChild(el("td", "", f.counters.join(", ")));
      tr.appendChild(el("td", "n", String(f.waiting)));
      tr.appendChild(el("td", "n", f.waiting ? dur(since(f.oldest_wait_s)) : "—"));
      tb.appendChild(tr);
    });
    tick();
  }
  function tick() {
    if (!data) { return; }
    var lw = data.longest_wait;
    $("ov-longest").textContent = lw ? dur(since(lw.wait_s)) : "—";
    $("ov-longest").classList.toggle("alert", !!lw && since(lw.wait_s) >= 30 * 60);
    $("ov-longest-who").textContent = lw ? "Số " + lw.number + " · " + lw.service_name + " · lấy số lúc " + lw.issued_at.slice(11, 16) : "Không có ai đang chờ";
    $("ov-updated").textContent = "Cập nhật lúc " + motcuaClock.time(new Date(fetchedAt), true);
  }
  setInterval(tick, 1000);
  setInterval(load, 15000);
  rt.on("online", function () { $("offline").classList.add("hidden"); load(); });
  rt.socket.on("disconnect", function () { $("offline").classList.remove("hidden"); });
  rt.on("changed", soon);
  rt.on("snapshot", soon);
  if (window.MotcuaAlerts) { MotcuaAlerts.start({ el: "motcua-alerts", api: api, rt: rt }); }
  load();
})();
