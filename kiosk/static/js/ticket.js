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
  // The counters as a citizen says them: "1 hoặc 4" ("1 or 4").
  function counterList(list, or) {
    var names = (list || []).map(String);
    return names.length < 2 ? names.join("") : names.slice(0, -1).join(", ") + " " + or + " " + names[names.length - 1];
  }
  function fill(s, tk, or) { return s.replace("{c}", tk.counter || tk.target_counter || counterList(tk.counters, or)); }

  function show(tk) {
    var st = STATES[tk.status] || [tk.status_label || tk.status, ""];
    var box = $("state");
    box.className = "ph-state st-" + tk.status;
    box.querySelector(".vi").textContent = fill(st[0], tk, "hoặc");
    box.querySelector(".en").textContent = fill(st[1], tk, "or");
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
      ctr.innerHTML = "";
      if ((tk.counters || []).length) {
        var cv = document.createElement("div"); cv.textContent = "Mời đến quầy số " + counterList(tk.counters, "hoặc") + " khi được gọi";
        var ce = document.createElement("div"); ce.className = "en"; ce.textContent = "Go to counter " + counterList(tk.counters, "or") + " when called";
        ctr.appendChild(cv); ctr.appendChild(ce);
      }
    } else {
      pos.textContent = ""; wait.textContent = ""; ctr.textContent = "";
    }
    if (tk.status === "called" && lastStatus !== null && lastStatus !== "called" && navigator.vibrate) {
      navigator.vibrate([300, 150, 300]);
    }
    lastStatus = tk.status;
    $("updated").textContent = "Cập nhật lúc " + motcuaClock.time(new Date(), true);  // the office's time
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
