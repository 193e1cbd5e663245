(function () {
  "use strict";
  var cfg = window.MOTCUA_COUNTER;
  var n = cfg.counter;
  var api = new MotcuaApi(cfg.token);
  var rt = new MotcuaRealtime({ token: cfg.token, connEl: document.getElementById("conn"), lostAfterMs: 1500 });
  var view = null, inflight = false, online = false, timerStart = null;
  var $ = function (id) { return document.getElementById(id); };

  function refresh() {
    return api.get("/api/v1/counters/" + n).then(function (v) { view = v; render(); })
      .catch(function (e) { motcuaToast(e.message, true); });
  }
  function render() {
    var cur = view && view.current;
    $("cur-number").textContent = cur ? cur.number : "—";
    $("cur-info").textContent = cur ? cur.service_name + (cur.priority_label ? " · Ưu tiên: " + cur.priority_label : "") +
      " · " + cur.status_label : "Chưa gọi số nào";
    timerStart = cur && cur.called_at ? new Date(cur.called_at) : null;
    $("waiting").innerHTML = "";
    (view.waiting || []).forEach(function (w) {
      var li = document.createElement("li"); li.textContent = w.name + ": " + w.waiting; $("waiting").appendChild(li);
    });
    $("next").innerHTML = "";
    (view.next || []).forEach(function (t) {
      var li = document.createElement("li"); li.textContent = t.number + " · " + t.service_name + (t.priority ? " (ưu tiên)" : "");
      $("next").appendChild(li);
    });
    $("served").innerHTML = "";
    (view.served || []).slice(0, 30).forEach(function (s) {
      var li = document.createElement("li");
      li.textContent = s.number + " · " + ({ done: "xong", no_show: "vắng mặt", transferred: "đã chuyển" }[s.outcome] || s.outcome);
      $("served").appendChild(li);
    });
    var paused = view.counter.paused;
    $("paused").classList.toggle("hidden", !paused);
    $("paused").textContent = paused ? "Quầy đang tạm dừng: " + view.counter.pause_reason : "";
    $("b-pause").textContent = paused ? "Tiếp tục" : "Tạm dừng";
    enable();
  }
  function enable() {
    var cur = view && view.current, ok = online && !inflight && view;
    var paused = view && view.counter.paused;
    $("b-next").disabled = !ok || paused;
    $("b-recall").disabled = !ok || !cur || cur.status !== "called";
    $("b-skip").disabled = !ok || !cur || cur.status !== "called";
    $("b-finish").disabled = !ok || !cur;
    $("b-transfer").disabled = !ok || !cur;
    $("b-pause").disabled = !ok;
    $("offline").classList.toggle("hidden", online);
  }
  function act(path, body, headers) {
    if (inflight) { return; }
    inflight = true; enable();
    api.post("/api/v1/counters/" + n + "/" + path, body, headers)
      .then(function (r) { if (path === "call-next" && !r.ticket) { motcuaToast("Không còn ai đang chờ."); } })
      .catch(function (e) { motcuaToast(e.message, true); })
      .then(function () { inflight = false; return refresh(); });
  }
  $("b-next").onclick = function () { act("call-next", {}, { "Idempotency-Key": MotcuaApi.newKey() }); };
  $("b-recall").onclick = function () { act("recall"); };
  $("b-skip").onclick = function () { act("skip"); };
  $("b-finish").onclick = function () { act("finish"); };
  $("b-transfer").onclick = function () { $("transfer-box").classList.toggle("hidden"); };
  $("t-go").onclick = function () { $("transfer-box").classList.add("hidden"); act("transfer", { service: $("t-field").value }); };
  $("b-pause").onclick = function () {
    if (view.counter.paused) { act("unpause"); return; }
    var reason = prompt("Lý do tạm dừng:", "Nghỉ giải lao");
    if (reason) { act("pause", { reason: reason }); }
  };
  document.addEventListener("keydown", function (e) {
    var b = document.querySelector("[data-key='" + e.key + "']");
    if (b) { e.preventDefault(); if (!b.disabled) { b.click(); } }
  });
  setInterval(function () {
    if (!timerStart) { $("cur-timer").textContent = ""; return; }
    var s = Math.max(0, Math.floor((Date.now() - timerStart.getTime()) / 1000));
    $("cur-timer").textContent = "⏱ " + Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
  }, 1000);
  rt.on("online", function () { online = true; rt.socket.emit("counter:watch", { counter: n }); refresh(); });
  rt.on("lost", function () { online = false; enable(); });
  rt.socket.on("disconnect", function () { online = false; enable(); });
  rt.on("changed", function () { refresh(); });
})();
