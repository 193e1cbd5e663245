// The phone page (/t/<token>, the QR on the ticket): the ticket's live position and state.
(function () {
  "use strict";
  var boot = window.MOTCUA_TICKET || {};
  var token = boot.token;
  var api = new MotcuaApi();
  var rt = new MotcuaRealtime({ connEl: document.getElementById("conn") });
  var $ = function (id) { return document.getElementById(id); };
  var lastStatus = null, timer = null, POLL_MS = 30000;

  // [Vietnamese, English] for each state; {c} is the counter number.
  var STATES = {
    waiting: ["Đang chờ đến lượt", "Waiting for your turn"],
    called: ["Đã đến lượt, mời đến quầy số {c}", "It is your turn: please go to counter {c}"],
    serving: ["Đang được phục vụ tại quầy số {c}", "Being served at counter {c}"],
    on_hold: ["Tạm dừng: mời bổ sung giấy tờ rồi quay lại quầy số {c}", "On hold: bring the missing papers back to counter {c}"],
    done: ["Đã hoàn thành. Cảm ơn ông/bà!", "Finished. Thank you!"],
    no_show: ["Ông/bà vắng mặt khi được gọi. Mời liên hệ quầy số {c}", "You were not there when called. Please ask at counter {c}"],
    cancelled: ["Số thứ tự đã bị hủy", "This number was cancelled"],
    expired: ["Số thứ tự đã hết hiệu lực (hết ngày làm việc)", "This number has expired (end of the working day)"]
  };
  function fill(s, tk) { return s.replace("{c}", tk.counter || tk.target_counter || (tk.counters || []).join(", ")); }

  function show(tk) {
    var st = STATES[tk.status] || [tk.status_label || tk.status, ""];
    var box = $("state");
    box.className = "ph-state st-" + tk.status;
    box.querySelector(".vi").textContent = fill(st[0], tk);
    box.querySelector(".en").textContent = fill(st[1], tk);
    var pos = $("position"), wait = $("wait"), ctr = $("counters");
    if (tk.status === "waiting") {
      var ahead = tk.ahead || 0;
      pos.innerHTML = "";
      var a = document.createElement("div");
      a.textContent = ahead > 0 ? "Trước ông/bà còn " + ahead + " người" : "Ông/bà là người tiếp theo";
      var ae = document.createElement("div"); ae.className = "en";
      ae.textContent = ahead > 0 ? "People ahead of you: " + ahead : "You are next";
      pos.appendChild(a); pos.appendChild(ae);
      var m = Math.round((tk.estimated_wait_s || 0) / 60);
      wait.textContent = m < 1 ? "Thời gian chờ dự kiến: dưới 1 phút · under 1 min"
        : "Thời gian chờ dự kiến: khoảng " + m + " phút · about " + m + " min";
      ctr.textContent = (tk.counters || []).length ? "Quầy phục vụ / Counters: " + tk.counters.join(", ") : "";
    } else {
      pos.textContent = ""; wait.textContent = ""; ctr.textContent = "";
    }
    if (tk.status === "called" && lastStatus !== null && lastStatus !== "called" && navigator.vibrate) {
      navigator.vibrate([300, 150, 300]);
    }
    lastStatus = tk.status;
    var d = new Date();
    $("updated").textContent = "Cập nhật lúc " + ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2) +
      ":" + ("0" + d.getSeconds()).slice(-2);
  }
  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      api.get("/api/v1/tickets/by-token/" + encodeURIComponent(token)).then(show).catch(function () {});
    }, 150);
  }
  if (boot.ticket) { lastStatus = null; show(boot.ticket); }
  rt.on("snapshot", refresh);
  rt.on("changed", refresh);
  rt.on("ticket:called", function (p) { if (p && boot.ticket && p.ticket_id === boot.ticket.id) { refresh(); } });
  setInterval(refresh, POLL_MS);
})();
