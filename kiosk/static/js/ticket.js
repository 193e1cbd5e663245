// The phone page (/t/<token>, the QR on the ticket): the ticket's live position and state, the
// wait estimate (a range when the server gives one), a ring and a vibration when the turn is
// near and when called (while the page is open; the sound is served by this server), and the
// form that gives a phone number for messages (docs/messages.md).
(function () {
  "use strict";
  var boot = window.MOTCUA_TICKET || {};
  var token = boot.token;
  var api = new MotcuaApi();
  // The page follows its own ticket: the server sends `ticket:update` when it changes.
  var rt = new MotcuaRealtime({ connEl: document.getElementById("conn"), ticket: token });
  var $ = function (id) { return document.getElementById(id); };
  var lastStatus = null, timer = null, POLL_MS = 30000, lastSeq = -1;
  var nearAhead = 3, nearKnown = false, nearShown = false, soundOn = false, chime = null;
  var seenKey = "motcua-near-" + token;  // the near-turn alert rings once per ticket, even after a reload
  try { nearShown = window.sessionStorage.getItem(seenKey) === "1"; } catch (e) { /* private mode */ }

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
      wait.textContent = waitText(tk);
      nearTurn(tk, ahead);
      ctr.innerHTML = "";
      if ((tk.counters || []).length) {
        var cv = document.createElement("div"); cv.textContent = "Mời đến quầy số " + counterList(tk.counters, "hoặc") + " khi được gọi";
        var ce = document.createElement("div"); ce.className = "en"; ce.textContent = "Go to counter " + counterList(tk.counters, "or") + " when called";
        ctr.appendChild(cv); ctr.appendChild(ce);
      }
    } else {
      pos.textContent = ""; wait.textContent = ""; ctr.textContent = "";
      $("near").hidden = true;
    }
    if (tk.status === "called" && lastStatus !== null && lastStatus !== "called") {
      ring([300, 150, 300, 150, 300]);
    }
    lastStatus = tk.status;
    $("updated").textContent = "Cập nhật lúc " + motcuaClock.time(new Date(), true);  // the office's time
  }
  // "khoảng 6–15 phút" from the estimate's range; the single figure of older servers otherwise.
  function waitText(tk) {
    var e = tk.estimate;
    if (e && typeof e.low_min === "number" && typeof e.high_min === "number") {
      if (e.high_min < 1) { return "Thời gian chờ dự kiến: dưới 1 phút · under 1 min"; }
      var lo = Math.max(0, Math.round(e.low_min)), hi = Math.max(lo, Math.round(e.high_min));
      var r = lo === hi ? String(hi) : lo + "–" + hi;
      return "Thời gian chờ dự kiến: khoảng " + r + " phút · about " + r + " min";
    }
    var m = Math.round((tk.estimated_wait_s || 0) / 60);
    return m < 1 ? "Thời gian chờ dự kiến: dưới 1 phút · under 1 min"
      : "Thời gian chờ dự kiến: khoảng " + m + " phút · about " + m + " min";
  }
  function nearTurn(tk, ahead) {
    var box = $("near");
    if (!nearKnown || ahead > nearAhead) { box.hidden = true; return; }
    box.querySelector(".vi").textContent = ahead > 0
      ? "Sắp đến lượt ông/bà: trước ông/bà còn " + ahead + " người. Xin mời đến gần quầy."
      : "Ông/bà là người tiếp theo. Xin mời đến gần quầy.";
    box.querySelector(".en").textContent = ahead > 0
      ? "Your turn is near: " + ahead + (ahead === 1 ? " person" : " people") + " ahead of you. Please come close to the counter."
      : "You are next. Please come close to the counter.";
    box.hidden = false;
    if (!nearShown) {
      nearShown = true;
      try { window.sessionStorage.setItem(seenKey, "1"); } catch (e) { /* private mode */ }
      box.classList.add("on");
      ring([200, 100, 200]);
    }
  }
  // Sound (when the citizen turned it on, or the browser allows it anyway) and vibration.
  function ring(pattern) {
    // Browsers refuse (and report) a vibration before the citizen has touched the page once.
    var touched = !navigator.userActivation || navigator.userActivation.hasBeenActive;
    if (navigator.vibrate && touched) { try { navigator.vibrate(pattern); } catch (e) { /* not allowed */ } }
    if (!chime && boot.sound) { chime = new Audio(boot.sound); }
    if (chime) {
      chime.currentTime = 0;
      var p = chime.play();
      if (p && p.catch) { p.catch(function () { /* no sound before a tap: the vibration and the notice remain */ }); }
    }
  }
  $("sound-on").addEventListener("click", function () {
    soundOn = !soundOn;
    this.setAttribute("aria-pressed", soundOn ? "true" : "false");
    this.querySelector(".vi").textContent = soundOn ? "Đã bật chuông và rung báo lượt" : "Bật chuông và rung báo lượt";
    this.querySelector(".en").textContent = soundOn ? "Sound and vibration are on" : "Ring and vibrate when my turn is near";
    if (soundOn) { ring([80]); }  // a tap lets the browser play the sound later
  });

  // Messages: the phone number form, when the office sends messages.
  function setupNotify(opts) {
    nearAhead = opts.near_turn_ahead || nearAhead;
    nearKnown = true;
    refresh();
    if (!opts.enabled) { return; }
    var names = { sms: "tin nhắn SMS", zns: "tin Zalo" };
    var labels = (opts.channels || []).map(function (c) { return names[c] || c; }).join(" và ");
    $("notify-what").innerHTML = "";
    var vi = document.createElement("span");
    vi.textContent = "Cơ quan gửi " + (labels || "tin nhắn") +
      " khi trước ông/bà còn " + nearAhead + " người, khi ông/bà được gọi và khi hồ sơ có kết quả.";
    var en = document.createElement("span"); en.className = "en";
    en.textContent = "The office sends a message when " + nearAhead + " people are ahead of you, when you are called and when your papers are ready.";
    $("notify-what").appendChild(vi); $("notify-what").appendChild(en);
    $("notify").hidden = false;
    $("notify-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = $("notify-phone"), err = $("notify-error");
      var digits = input.value.replace(/\D/g, "");
      err.textContent = "";
      if (digits.length < 10) {
        err.textContent = "Xin nhập đủ 10 chữ số của số điện thoại di động. · Please enter all 10 digits.";
        input.focus(); return;
      }
      var btn = this.querySelector("button"); btn.disabled = true;
      api.post("/api/v1/messages/opt-in", { token: token, phone: input.value }).then(function (r) {
        $("notify-form").hidden = true;
        var done = $("notify-done"); done.innerHTML = "";
        var a = document.createElement("div"); a.textContent = "Đã đăng ký nhận tin cho số ";
        var num = document.createElement("span"); num.style.whiteSpace = "nowrap"; num.textContent = r.phone_masked + ".";
        a.appendChild(num);
        var b = document.createElement("div"); b.className = "en"; b.textContent = "Messages will go to " + r.phone_masked + ".";
        done.appendChild(a); done.appendChild(b); done.hidden = false;
      }).catch(function (e) {
        err.textContent = e.message;
      }).then(function () { btn.disabled = false; });
    });
  }
  api.get("/api/v1/messages/options").then(setupNotify).catch(function () {
    nearKnown = true; refresh();  // no messages here: the near-turn notice uses the default
  });

  // An answer read before the one shown (a slow request, an update overtaken) is dropped.
  function accept(tk) {
    if (!tk) { return; }
    if (typeof tk.seq === "number") {
      if (tk.seq < lastSeq) { return; }
      lastSeq = tk.seq;
    }
    show(tk);
  }
  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      api.get("/api/v1/tickets/by-token/" + encodeURIComponent(token)).then(accept).catch(function () {});
    }, 150);
  }
  if (boot.ticket) { lastStatus = null; accept(boot.ticket); }
  rt.on("ticket:update", accept);
  rt.on("ticket:called", function (p) { if (p && boot.ticket && p.ticket_id === boot.ticket.id) { refresh(); } });
  setInterval(refresh, POLL_MS);
})();
