// The citizen's rating tablet (/rate/<counter>). A device token from ?device=<token> (kept in
// localStorage) joins the Socket.IO room rating:<counter>; a finished visit sends rating:prompt,
// the citizen taps a level (and reasons when not satisfied), the tablet thanks them and goes
// back to rest. The prompt closes after its timeout (30 s by default).
(function () {
  "use strict";
  var cfg = window.MOTCUA_RATE;
  var n = cfg.counter;
  var KEY = "motcua.rating.token";
  var params = new URLSearchParams(location.search);
  if (params.get("device")) {
    localStorage.setItem(KEY, params.get("device"));
    history.replaceState(null, "", location.pathname); // keep the token out of the address bar
  }
  var token = localStorage.getItem(KEY) || cfg.demoToken || null;
  var $ = function (id) { return document.getElementById(id); };
  var SCREENS = ["s-idle", "s-ask", "s-reasons", "s-thanks", "s-error", "s-setup"];
  var prompt = null;      // the visit being rated: {visit_id, ticket_id, number, ...}
  var sending = false;
  var closeTimer = null, deadline = 0, span = 0, backTimer = null;
  motcuaClock($("clock"));
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });

  function show(id) {
    SCREENS.forEach(function (s) { $(s).classList.toggle("hidden", s !== id); });
    $("countdown").classList.toggle("hidden", !(id === "s-ask" || id === "s-reasons"));
  }
  function idle() { prompt = null; stopTimer(); show("s-idle"); }
  function setup(msg) { prompt = null; stopTimer(); $("setup-text").textContent = msg; show("s-setup"); }

  // What staff read on a tablet that is not set up: plain words, no address, no code to type.
  var ASK_STAFF = " Xin báo cán bộ phụ trách kỹ thuật của Trung tâm để cài đặt lại máy.";
  if (!token) {
    setup("Chưa có mã thiết bị cho máy đánh giá của quầy " + n + "." + ASK_STAFF);
    return;
  }
  var api = new MotcuaApi(token);
  var rt = new MotcuaRealtime({ token: token, connEl: $("conn"), lostAfterMs: 1500 });

  // Countdown ------------------------------------------------------------------------------
  function startTimer(seconds) {
    stopTimer();
    span = Math.max(3, seconds) * 1000;
    deadline = Date.now() + span;
    closeTimer = setInterval(function () {
      var left = deadline - Date.now();
      $("countdown-bar").style.width = Math.max(0, 100 * left / span) + "%";
      if (left <= 0) { timedOut(); }
    }, 200);
  }
  function stopTimer() { if (closeTimer) { clearInterval(closeTimer); closeTimer = null; } }
  function timedOut() {
    stopTimer();
    if (!$("s-reasons").classList.contains("hidden") && prompt) {
      send("unsatisfied", true); // the citizen chose "Không hài lòng": keep it, with the reasons ticked so far
      return;
    }
    idle();
  }
  function touch() { if (prompt && closeTimer) { startTimer(cfg.timeoutS); } }
  document.addEventListener("pointerdown", touch);
  document.addEventListener("keydown", touch);

  // Prompt ---------------------------------------------------------------------------------
  function ask(p) {
    if (!p || p.counter !== n) { return; }
    if (prompt && prompt.visit_id === p.visit_id) { return; }
    if (prompt && !$("s-reasons").classList.contains("hidden")) { send("unsatisfied", true); }
    clearTimeout(backTimer);
    prompt = p;
    sending = false;
    $("ask-number").textContent = p.number;
    $("ask-service").textContent = p.service_name ? "· " + p.service_name : "";
    document.querySelectorAll(".reason").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    $("comment").value = "";
    setLevelButtons(true);
    show("s-ask");
    var seconds = p.timeout_s || cfg.timeoutS;
    var exp = Date.parse(p.expires_at);
    if (!isNaN(exp)) { seconds = Math.min(seconds, Math.max(5, (exp - Date.now()) / 1000)); }
    startTimer(seconds);
  }
  function setLevelButtons(on) {
    document.querySelectorAll(".level, #send-reasons").forEach(function (b) { b.disabled = !on; });
  }

  document.querySelectorAll(".level").forEach(function (b) {
    b.addEventListener("click", function () {
      if (!prompt || sending) { return; }
      if (b.dataset.level === "unsatisfied") { show("s-reasons"); startTimer(cfg.timeoutS); return; }
      send(b.dataset.level, false);
    });
  });
  document.querySelectorAll(".reason").forEach(function (b) {
    b.addEventListener("click", function () {
      b.setAttribute("aria-pressed", b.getAttribute("aria-pressed") === "true" ? "false" : "true");
    });
  });
  $("send-reasons").addEventListener("click", function () { send("unsatisfied", false); });

  function send(level, quiet) {
    if (!prompt || sending) { return; }
    sending = true;
    setLevelButtons(false);
    stopTimer();
    var body = { ticket: prompt.ticket_id, level: level };
    if (level === "unsatisfied") {
      body.reasons = Array.prototype.map.call(document.querySelectorAll(".reason[aria-pressed='true']"),
        function (b) { return b.dataset.reason; });
      var c = $("comment").value.trim();
      if (c) { body.comment = c; }
    }
    var rated = prompt;
    api.post("/api/v1/ratings", body).then(function () {
      if (prompt !== rated) { return; }
      prompt = null;
      show("s-thanks");
      backTimer = setTimeout(idle, quiet ? 3000 : 6000);
    }, function (e) {
      if (prompt !== rated) { return; }
      prompt = null;
      $("error-text").textContent = e.message;
      show("s-error");
      backTimer = setTimeout(idle, 8000);
    }).then(function () { sending = false; setLevelButtons(true); });
  }

  // Realtime -------------------------------------------------------------------------------
  function catchUp() {
    api.get("/api/v1/ratings/pending?counter=" + n).then(function (r) {
      if (r.prompt) { ask(r.prompt); }
      else if (prompt && !sending) { idle(); }
      else if (!$("s-setup").classList.contains("hidden")) { idle(); }
    }, function (e) {
      if (e.status === 401) { setup(BAD_TOKEN); }
      else if (e.status === 403) { setup((e.code === "other_counter" ? e.message : "Máy này không dùng được để đánh giá quầy " + n + ".") + ASK_STAFF); }
    });
  }
  var BAD_TOKEN = "Máy đánh giá của quầy " + n + " chưa được kết nối đúng với hệ thống." + ASK_STAFF;
  rt.on("online", catchUp);
  rt.on("error", function (e) {
    // The refusal of the socket arrives as {error} or, from some servers, inside its message.
    if (e && (e.error === "bad_token" || /bad_token/.test(String(e.message || "")))) { setup(BAD_TOKEN); }
  });
  rt.on("rating:prompt", ask);
  rt.on("rating:closed", function (p) {
    if (prompt && p && p.visit_id === prompt.visit_id && !sending) { idle(); }
  });
  show("s-idle");
  catchUp();  // a wrong device code says so at once, even before the socket gives up
})();
