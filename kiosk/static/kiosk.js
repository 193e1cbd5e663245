// The kiosk (/kiosk): take a number, look up a dossier, read the procedure catalogue.
// Talks to the API (MotcuaApi) and the realtime hub (MotcuaRealtime); loads nothing from outside.
(function () {
  "use strict";
  var cfg = window.MOTCUA_KIOSK || {};
  var I = window.KioskI18n, t = I.t;
  var params = new URLSearchParams(location.search);
  if (params.get("device")) { localStorage.setItem("motcua.kiosk.token", params.get("device")); }
  var token = localStorage.getItem("motcua.kiosk.token") || cfg.deviceToken || null;
  var api = new MotcuaApi(token);
  var rt = new MotcuaRealtime({ token: token, connEl: document.getElementById("conn") });
  var $ = function (id) { return document.getElementById(id); };
  var idleS = cfg.idleSeconds || 20, browseS = cfg.browseIdleSeconds || 90;
  var screens = new KioskScreens({ idle: { priority: idleS, ticket: idleS, message: idleS, lookup: browseS,
    dossier: browseS, verify: browseS, procedures: browseS, procedure: browseS, checkin: browseS } });

  var state = {
    services: [], office: null, open: null,
    printers: {},          // name -> {state, detail}
    ticket: null,          // the ticket on screen: {id, jobId, printState}
    chosen: null,          // field chosen before the priority step
    busy: false,
    offline: false         // the server cannot be reached: out of service, no tap is taken
  };
  var OK_PRINTER_STATES = ["ready", "ok", "online", "idle", "busy", "printing"];
  // "closed": the server stopped its printer (it is shutting down), not a printer fault;
  // "unsupported": a printer the registry does not drive (e.g. a second one): not ours.
  var IGNORED_PRINTER_STATES = ["unsupported", "closed"];
  var PROBE_MS = 2000;

  // Kiosk hardening: no context menu, no dragging, no pinch or ctrl+wheel zoom. -------------
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  document.addEventListener("dragstart", function (e) { e.preventDefault(); });
  document.addEventListener("selectstart", function (e) { e.preventDefault(); });
  document.addEventListener("wheel", function (e) { if (e.ctrlKey) { e.preventDefault(); } }, { passive: false });
  document.addEventListener("touchmove", function (e) { if (e.touches && e.touches.length > 1) { e.preventDefault(); } }, { passive: false });
  ["gesturestart", "gesturechange"].forEach(function (n) { document.addEventListener(n, function (e) { e.preventDefault(); }); });

  motcuaClock($("clock"));
  document.querySelectorAll("[data-icon]").forEach(function (el) { el.innerHTML = KioskIcons.svg(el.dataset.icon); });

  // Language -------------------------------------------------------------------------------
  function setLang(lang) {
    I.setLang(lang);
    document.querySelectorAll(".lang").forEach(function (b) {
      b.setAttribute("aria-pressed", b.dataset.lang === I.lang() ? "true" : "false");
    });
    renderServices(); renderBanners(); renderPriorityClasses();
    if (state.ticket) { renderTicketLines(state.ticket.data); renderBooking(); renderPrintState(); }
  }
  document.querySelectorAll(".lang").forEach(function (b) {
    b.addEventListener("click", function () { setLang(b.dataset.lang); });
  });

  // Navigation buttons (data-go="screen") ------------------------------------------------------
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-go]");
    if (!b) { return; }
    var to = b.dataset.go;
    if (to === "lookup") { lookup.open(); }
    else if (to === "procedures") { procedures.open(); }
    else if (to === "dossier") { lookup.backToDossier(); }
    else { screens.show(to); }
  });
  screens.on("show", function (name) {
    if (name === "home") { state.ticket = null; state.chosen = null; }
    renderOffline();
  });

  // Home: one button per field ---------------------------------------------------------------
  function waitingText(n) { return t("home.waiting", { n: n }); }
  function renderServices() {
    var box = $("services");
    box.innerHTML = "";
    state.services.filter(function (s) { return s.kiosk !== false; }).forEach(function (s) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "tile svc";
      b.dataset.service = s.code;
      b.dataset.testid = "service-" + s.code;
      b.innerHTML = "<span class='tile-icon'></span><span class='tile-text'><span class='tile-name'></span>" +
        "<span class='tile-en'></span><span class='waiting'></span></span>";
      b.querySelector(".tile-icon").innerHTML = KioskIcons.forField(s);
      b.querySelector(".tile-name").textContent = s.name;
      b.querySelector(".tile-en").textContent = s.name_en || "";
      b.querySelector(".waiting").textContent = waitingText(s.waiting);
      b.addEventListener("click", function () { chooseField(s); });
      box.appendChild(b);
    });
    box.dataset.count = String(box.children.length);
  }
  function updateCounts(list) {
    (list || []).forEach(function (s) {
      var known = state.services.find(function (x) { return x.code === s.code; });
      if (known) { known.waiting = s.waiting; }
      var el = $("services").querySelector("[data-service='" + s.code + "'] .waiting");
      if (el) { el.textContent = waitingText(s.waiting); }
    });
  }
  function resultsService() {
    return state.services.find(function (s) { return s.returns_results; }) || null;
  }

  // Open state and printer banners -------------------------------------------------------------
  function printerBad() {
    return Object.keys(state.printers).some(function (n) {
      var st = String(state.printers[n].state || "").toLowerCase();
      return IGNORED_PRINTER_STATES.indexOf(st) < 0 && OK_PRINTER_STATES.indexOf(st) < 0;
    });
  }
  function renderBanners() {
    var closed = $("banner-closed");
    if (state.open && state.open.open === false) {
      closed.innerHTML = "";
      var vi = document.createElement("div"); vi.textContent = state.open.message;
      closed.appendChild(vi);
      var enKey = "err." + (state.open.code || "after_close");
      var en = document.createElement("div"); en.className = "en";
      en.textContent = I.lang() === "vi" ? t(enKey, null, "en") : "";
      if (en.textContent !== enKey) { closed.appendChild(en); }
      closed.classList.remove("hidden");
    } else { closed.classList.add("hidden"); }
    $("banner-printer").classList.toggle("hidden", !printerBad());
  }
  function loadOffice() {
    return api.get("/api/v1/office").then(function (o) {
      state.office = o; state.open = o.open;
      renderBanners(); renderPriorityClasses();
    }).catch(function () {});
  }
  function loadPrinters() {
    if (!token) { state.printersLoaded = true; return; }
    api.get("/api/v1/kiosk/status").then(function (s) {
      (s.printers || []).forEach(function (p) { state.printers[p.name] = { state: p.state, detail: p.detail }; });
      renderBanners();
    }).catch(function () {}).then(function () { state.printersLoaded = true; });
  }

  // Priority step ----------------------------------------------------------------------------------
  function priorityClasses() {
    var o = state.office;
    return o && o.priority_enabled ? (o.priority_classes || []) : [];
  }
  function renderPriorityClasses() {
    var box = $("prio-classes");
    box.innerHTML = "";
    priorityClasses().forEach(function (c) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "tile prio"; b.dataset.priority = c; b.dataset.testid = "priority-" + c;
      b.innerHTML = "<span class='tile-name'></span><span class='tile-en'></span>";
      b.querySelector(".tile-name").textContent = t("prio." + c);
      b.querySelector(".tile-en").textContent = I.lang() === "vi" ? t("prio." + c, null, "en") : "";
      b.addEventListener("click", function () { if (state.chosen) { issue(state.chosen.code, c, null); } });
      box.appendChild(b);
    });
  }
  function chooseField(s) {
    if (state.busy || state.offline) { return; }
    var closed = state.open && state.open.open === false;
    if (!closed && priorityClasses().length) {
      state.chosen = s;
      var f = $("prio-field");
      f.innerHTML = KioskIcons.forField(s);
      var name = document.createElement("span"); name.textContent = s.name; f.appendChild(name);
      screens.show("priority");
      return;
    }
    issue(s.code, null, null);
  }
  $("prio-no").addEventListener("click", function () { if (state.chosen) { issue(state.chosen.code, null, null); } });

  // Issuing and showing a ticket ---------------------------------------------------------------------
  function issue(code, priority, dossier) {
    if (state.busy || state.offline) { return Promise.resolve(null); }
    state.busy = true;
    document.body.classList.add("busy");
    var body = { service: code };
    if (priority) { body.priority = priority; }
    if (dossier) { body.dossier = dossier; }
    return api.post("/api/v1/tickets", body, { "Idempotency-Key": MotcuaApi.newKey() }).then(function (tk) {
      showTicket(tk, dossier);
      return tk;
    }).catch(function (e) {
      if (!lost(e)) { showMessage(e); }
      return null;
    }).then(function (r) {
      state.busy = false;
      document.body.classList.remove("busy");
      return r;
    });
  }
  function fmtWait(s) {
    var m = Math.round((s || 0) / 60);
    return m < 1 ? t("ticket.wait_short") : t("ticket.wait", { m: m });
  }
  function setLine(el, vi, en) {
    el.innerHTML = "";
    var a = document.createElement("span"); a.textContent = vi; el.appendChild(a);
    if (en) { var b = document.createElement("span"); b.className = "en"; b.textContent = en; el.appendChild(b); }
  }
  function both(key, vars) {
    // The line in the current language, plus the English line under Vietnamese.
    return [t(key, vars), I.lang() === "vi" ? t(key, vars, "en") : ""];
  }
  // The counters as a citizen says them: "1 hoặc 4", "1, 2 hoặc 4" ("1 or 4" in English).
  function counterList(list, lang) {
    var names = (list || []).map(String);
    if (names.length < 2) { return names.join(""); }
    return names.slice(0, -1).join(", ") + " " + t("common.or", null, lang) + " " + names[names.length - 1];
  }
  function renderTicketLines(tk) {
    $("t-number").textContent = tk.number;
    $("t-service").textContent = tk.service_name || tk.service;
    var counters = counterList(tk.counters);
    setLine($("t-counters"), counters ? t("ticket.counters", { c: counters }) : "",
      counters && I.lang() === "vi" ? t("ticket.counters", { c: counterList(tk.counters, "en") }, "en") : "");
    var ahead = tk.ahead || 0;
    var a = ahead > 0 ? both("ticket.ahead", { n: ahead }) : both("ticket.ahead_none");
    setLine($("t-ahead"), a[0], a[1]);
    var m = Math.round((tk.estimated_wait_s || 0) / 60), est = tk.estimate;
    if (est && typeof est.low_min === "number" && typeof est.high_min === "number") {
      // A range from the wait estimates (issue 15), never a false precision.
      var range = est.low_min === est.high_min ? String(est.low_min) : est.low_min + " – " + est.high_min;
      setLine($("t-wait"), "Thời gian chờ dự kiến: khoảng " + range + " phút", I.lang() === "vi" ? "Expected wait: about " + range + " min" : "");
    } else {
      setLine($("t-wait"), fmtWait(tk.estimated_wait_s),
        I.lang() === "vi" ? (m < 1 ? t("ticket.wait_short", null, "en") : t("ticket.wait", { m: m }, "en")) : "");
    }
    var pr = $("t-priority");
    if (tk.priority) { pr.textContent = t("ticket.priority", { p: t("prio." + tk.priority) }); pr.classList.remove("hidden"); }
    else { pr.classList.add("hidden"); }
    var dz = $("t-dossier");
    if (tk.dossier_code) { dz.textContent = t("ticket.dossier", { code: tk.dossier_code }); dz.classList.remove("hidden"); }
    else { dz.classList.add("hidden"); }
    // A second "Lấy số nhận kết quả" for the same dossier: its number, not a new one.
    var al = $("t-already");
    if (tk.already_issued) {
      var a2 = both("ticket.already", { n: tk.number });
      setLine(al, a2[0], a2[1]);
      al.classList.remove("hidden");
    } else { al.classList.add("hidden"); }
  }
  // A ticket taken with a booking (checkin.js): its slot, or "came late: a normal number".
  function renderBooking() {
    var el = $("t-booking"), tk = state.ticket, b = tk && tk.booking;
    el.classList.toggle("hidden", !b);
    if (!b) { return; }
    if (tk.late) {
      setLine(el, "Ông/bà đến sau giờ hẹn " + b.start + ": số thứ tự thông thường.", "You came after your " + b.start + " booking: a normal number.");
    } else {
      setLine(el, "Lịch hẹn " + b.start + " – " + b.end + ": ông/bà được gọi ưu tiên từ " + b.start + ".",
        "Booked " + b.start + " – " + b.end + ": you are called ahead from " + b.start + ".");
    }
  }
  function showTicket(tk, booking, late) {
    var job = tk.print_job || null;
    state.ticket = { id: tk.id, data: tk, jobId: job ? job.job_id || job.id : null,
                     printState: job ? job.state : null,
                     notPrinted: !!tk.already_issued,  // shown again, not printed again
                     // Failed at once, or queued while the registry already knows the printer is down.
                     failed: !!(job && (job.state === "failed" || job.printer_ok === false)),
                     printMessage: job ? job.message || job.error || "" : "",
                     booking: booking || null, late: !!late };
    recentJobs.forEach(function (p) {
      if (state.ticket.jobId && p.job_id === state.ticket.jobId) { applyJob(state.ticket, p); }
    });
    renderTicketLines(tk);
    renderBooking();
    $("t-qr").src = "/t/" + encodeURIComponent(tk.token) + "/qr.svg";
    screens.show("ticket", idleS);
    state.ticket.shownAt = Date.now();
    renderPrintState();
  }
  function ticketPrintFailed() {
    var tk = state.ticket;
    if (!tk) { return false; }
    if (tk.failed) { return true; }
    return !tk.notPrinted && tk.printState !== "done" && printerBad();
  }
  function renderPrintState() {
    var tk = state.ticket, el = $("t-print");
    if (!tk) { return; }
    el.className = "print-state";
    el.innerHTML = "";
    if (ticketPrintFailed()) {
      el.classList.add("error");
      var vi = document.createElement("div"); vi.className = "ps-main"; vi.textContent = t("ticket.print_failed");
      el.appendChild(vi);
      if (I.lang() === "vi") {
        var en = document.createElement("div"); en.className = "en"; en.textContent = t("ticket.print_failed", null, "en");
        el.appendChild(en);
      }
      document.body.classList.add("print-failed");
      // Give time to note the number or take a photo; only the button leaves this screen.
      if (screens.current === "ticket" && !tk.extended) { tk.extended = true; screens.setIdle(idleS * 3); }
      return;
    }
    document.body.classList.remove("print-failed");
    if (tk.printState === "done") { el.textContent = t("ticket.printed"); el.classList.add("ok"); }
    else if (tk.printState === "queued" || tk.printState === "printing") { el.textContent = t("ticket.printing"); }
  }
  $("t-done").addEventListener("click", function (e) { e.stopPropagation(); screens.show("home"); });
  $("s-ticket").addEventListener("click", function (e) {
    // A tap anywhere goes home, but not in the first moment (the same tap) nor when the
    // number could not be printed (then only "Xong" leaves, so nobody loses it by accident).
    if (!state.ticket || ticketPrintFailed() || Date.now() - state.ticket.shownAt < 1200) { return; }
    screens.show("home");
  });
  screens.on("tick", function (name, left) {
    if (name === "ticket" && left !== null) { $("t-countdown").textContent = t("ticket.auto_home", { s: left }); }
    if (name !== "ticket") { document.body.classList.remove("print-failed"); }
  });

  function applyJob(tk, p) {
    tk.printState = p.state;
    if (p.state === "failed") { tk.failed = true; tk.printMessage = p.message || ""; }
  }
  var recentJobs = [];  // the last few print:job events: one may come before the ticket's HTTP answer
  rt.on("print:job", function (p) {
    if (!p) { return; }
    recentJobs.push(p);
    if (recentJobs.length > 20) { recentJobs.shift(); }
    var tk = state.ticket;
    if (!tk) { return; }
    if (p.ticket_id !== tk.id && !(tk.jobId && p.job_id === tk.jobId)) { return; }
    applyJob(tk, p);
    renderPrintState();
  });
  rt.on("device:status", function (d) {
    if (!d || d.kind !== "printer") { return; }
    state.printers[d.name] = { state: d.state, detail: d.detail };
    renderBanners();
    renderPrintState();
  });

  // Plain messages (refusals, errors) ----------------------------------------------------------------
  function showMessage(err) {
    var msg = (err && err.message) || String(err);
    $("m-text").textContent = msg;
    var code = err && err.code ? "err." + err.code : "";
    var en = code ? t(code, null, "en") : "";
    $("m-en").textContent = en && en !== code && (I.lang() === "vi" || en !== msg) ? en : "";
    screens.show("message");
  }

  // Out of service: the server cannot be reached ---------------------------------------------------
  // The socket's disconnection (the server stopped, the cable is cut) or a request that cannot
  // reach the server puts up the out-of-service screen at once; nothing behind it takes a tap.
  // A ticket already on screen stays until "Xong" (the citizen keeps the number). The kiosk
  // asks the server every few seconds and comes back by itself once the server answers and
  // the socket is connected again, with fresh counts and printer states.
  var probeTimer = null, socketUp = false;
  function renderOffline() {
    var hide = state.offline && screens.current !== "ticket";
    document.body.classList.toggle("offline", hide);
    $("out-of-service").classList.toggle("hidden", !hide);
  }
  function setOffline(on) {
    if (on === state.offline) { return; }
    state.offline = on;
    if (on) {
      state.printers = {};  // unknown until the server tells again
      state.chosen = null;
      if (screens.current !== "ticket") { screens.show("home"); }  // personal data leaves the screen
      probe();
    } else {
      clearTimeout(probeTimer); probeTimer = null;
      loadOffice(); loadPrinters(); rt.resync();
    }
    renderOffline(); renderBanners();
  }
  function probe() {
    clearTimeout(probeTimer);
    probeTimer = setTimeout(function () {
      if (!state.offline) { return; }
      api.get("/api/v1/office").then(function () {
        if (socketUp) { setOffline(false); } else { probe(); }
      }, function () { probe(); });
    }, PROBE_MS);
  }
  // A request that failed for want of the server (not a refusal): out of service.
  function lost(e) {
    if (!e || e.status !== 0) { return false; }
    setOffline(true);
    return true;
  }
  rt.socket.on("connect", function () { socketUp = true; if (state.offline) { probe(); } });
  rt.socket.on("disconnect", function () { socketUp = false; setOffline(true); });
  rt.socket.on("connect_error", function () { socketUp = false; if (state.wasUp) { setOffline(true); } });
  rt.on("online", function () { state.wasUp = true; });

  // Realtime: queue snapshot, counts, scans ------------------------------------------------------------
  rt.on("snapshot", function (snap) {
    state.services = snap.services || [];
    if (snap.open) { state.open = snap.open; }
    renderServices(); renderBanners();
  });
  rt.on("changed", function (st) { updateCounts(st.services); });
  // The administrator changed the office (a new field, a hidden one...): redraw from a fresh snapshot.
  rt.on("config:changed", function () { rt.resync(); });
  // After a lost connection the printer may have changed state unseen: ask again.
  rt.on("lost", function () { state.wasLost = true; });
  rt.on("online", function () { if (state.wasLost) { state.wasLost = false; loadPrinters(); } });

  function service(code) {
    return state.services.find(function (s) { return s.code === code && s.kiosk !== false; }) || null;
  }
  var ctx = { api: api, rt: rt, screens: screens, t: t, i18n: I, issue: issue, showMessage: showMessage,
              resultsService: resultsService, both: both, lost: lost, service: service, chooseField: chooseField,
              verifiedIdleSeconds: Math.min(browseS, 45) };
  var lookup = KioskLookup.init(ctx);
  var procedures = KioskProcedures.init(ctx);
  ctx.showTicket = showTicket;
  var checkin = KioskCheckin.init(ctx);
  api.get("/api/v1/appointments/options").then(function (o) {
    $("go-checkin").classList.toggle("hidden", !(o && o.enabled && o.fields.some(function (f) { return f.bookable; })));
  }).catch(function () {});
  $("go-lookup").addEventListener("click", function () { lookup.open(); });
  $("go-procedures").addEventListener("click", function () { procedures.open(); });
  rt.on("kiosk:scan", function (p) {
    if (!p) { return; }
    if (!p.code && KioskCheckin.bookingCode(p.text)) { checkin.checkIn(p.text); return; }  // a booking's QR
    lookup.fromCamera(p);
  });
  KioskWedge.listen(document, { maxGapMs: cfg.scanGapMs || 50, minChars: cfg.scanMinChars || 4 }, function (text) {
    if (state.offline) { return; }
    if (KioskCheckin.bookingCode(text)) { checkin.checkIn(text); } else { lookup.scan(text); }
  });

  setLang(cfg.lang || "vi");
  screens.show("home");
  loadOffice();
  loadPrinters();
  setInterval(loadOffice, 60000);
  window.MotcuaKiosk = { state: state, screens: screens, lookup: lookup, procedures: procedures, rt: rt, checkin: checkin };
})();
