// The counter console: one tap (or F-key) per action, buttons disabled when they cannot apply,
// one request at a time, kept in step with the server through Socket.IO.
(function () {
  "use strict";
  var cfg = window.MOTCUA_COUNTER;
  var n = cfg.counter;
  var api = new MotcuaApi(cfg.token);
  var rt = new MotcuaRealtime({ token: cfg.token, connEl: document.getElementById("conn"), lostAfterMs: 1500 });
  var $ = function (id) { return document.getElementById(id); };
  var view = null;          // GET /api/v1/counters/<n>
  var inflight = false;     // an action request is on its way: every action button is disabled
  var online = false;       // Socket.IO connected and answering
  var timerStart = null;
  var dossiers = [];        // codes to send with Kết thúc
  var dossierTicket = null; // the ticket those codes belong to
  var refreshing = false, refreshAgain = false;
  var everOnline = false, startupOver = false;
  var OUTCOME = { done: "Đã xong", no_show: "Vắng mặt", transferred: "Đã chuyển", cancelled: "Đã hủy", expired: "Hết hạn" };
  var STATUS = { called: "Đang mời", serving: "Đang phục vụ" };

  // Data -----------------------------------------------------------------------------------
  function refresh() {
    if (refreshing) { refreshAgain = true; return Promise.resolve(); }
    refreshing = true;
    return api.get("/api/v1/counters/" + n).then(function (v) { view = v; render(); })
      .catch(function (e) { onApiError(e); })
      .then(function () {
        refreshing = false;
        if (refreshAgain) { refreshAgain = false; return refresh(); }
      });
  }

  function onApiError(e) {
    if (e.status === 401) {
      motcuaToast("Phiên làm việc đã hết hạn. Đang tải lại trang…", true);
      setTimeout(function () { location.reload(); }, 1500);
      return;
    }
    if (e.status === 0) { setOnline(false); }
    motcuaToast(e.message, true, 6000);
  }

  // Rendering ------------------------------------------------------------------------------
  function text(el, s) { el.textContent = s; return el; }
  function li(s, cls) { var x = document.createElement("li"); if (cls) { x.className = cls; } return text(x, s); }
  function hhmm(iso) { return iso ? iso.slice(11, 16) : ""; }
  // The running timer is a stopwatch (m:ss); a time spent is said as a duration ("4 phút").
  function stopwatch(s) {
    var m = Math.floor(s / 60), r = s % 60;
    return m >= 60 ? Math.floor(m / 60) + " giờ " + (m % 60) + " phút" : m + ":" + ("0" + r).slice(-2);
  }
  function dur(s) {
    if (s === null || s === undefined) { return ""; }
    var m = Math.floor(s / 60);
    if (m < 1) { return s + " giây"; }
    return m >= 60 ? Math.floor(m / 60) + " giờ" + (m % 60 ? " " + (m % 60) + " phút" : "") : m + " phút";
  }
  // "chuyển từ quầy 2 (Đất đai)": a ticket sent here by a transfer.
  function origin(t) {
    if (!t || !t.from_counter) { return ""; }
    return "chuyển từ quầy " + t.from_counter + (t.from_service_name ? " (" + t.from_service_name + ")" : "");
  }

  function render() {
    if (!view) { return; }
    var cur = view.current;
    text($("cur-number"), cur ? cur.number : "—");
    $("cur-number").classList.toggle("none", !cur);
    var info = cur ? cur.service_name : "Chưa gọi số nào";
    if (cur && cur.priority_label) { info += " · Ưu tiên: " + cur.priority_label; }
    if (cur && cur.recalls) { info += " · Đã gọi lại " + cur.recalls + " lần"; }
    if (cur && cur.dossier_code) { info += " · Hồ sơ " + cur.dossier_code; }
    if (cur && cur.from_counter) { var o = origin(cur); info += " · " + o.charAt(0).toUpperCase() + o.slice(1); }
    text($("cur-info"), info);
    $("cur-more").classList.toggle("hidden", !cur);
    $("cur-cancel").classList.toggle("hidden", !cur || cur.status !== "called");
    $("cur-status").classList.toggle("hidden", !cur);
    if (cur) {
      text($("cur-status"), STATUS[cur.status] || cur.status_label);
      $("cur-status").dataset.status = cur.status;
    }
    timerStart = cur && cur.called_at ? new Date(cur.called_at) : null;
    tick();
    // Dossier codes belong to one visit: a new current ticket starts an empty list.
    var curId = cur ? cur.id + ":" + view.current_visit_id : null;
    if (curId !== dossierTicket) {
      dossierTicket = curId; dossiers = []; $("dossier-input").value = ""; renderDossiers();
      $("return-dossier").checked = true;  // a pickup ticket returns its dossier unless staff untick it
    }
    $("return-box").classList.toggle("hidden", !(cur && cur.dossier_code));
    text($("return-code"), cur && cur.dossier_code ? cur.dossier_code : "");
    $("dossier-box").classList.toggle("hidden", !cur);
    if (cur && cur.dossier_code && $("result-code").dataset.filledFor !== String(cur.id)) {
      $("result-code").value = cur.dossier_code; $("result-code").dataset.filledFor = String(cur.id);
    }

    var w = $("waiting"); w.innerHTML = "";
    view.waiting.forEach(function (f) {
      var x = li("", "wf");
      x.appendChild(text(document.createElement("span"), f.name));
      var b = text(document.createElement("b"), String(f.waiting));
      b.dataset.field = f.code; x.appendChild(b);
      w.appendChild(x);
    });

    var nx = $("next"); nx.innerHTML = "";
    if (!view.next.length) { nx.appendChild(li("Không có ai đang chờ.", "empty")); }
    view.next.forEach(function (t) {
      var x = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button"; b.className = "next-item"; b.dataset.ticket = t.id; b.dataset.number = t.number;
      b.innerHTML = "<span class='num'></span><span class='svc'></span><span class='age'></span>";
      text(b.querySelector(".num"), t.number);
      text(b.querySelector(".svc"), t.service_name + (t.priority ? " · ưu tiên" : "") +
        (t.dossier_code ? " · hồ sơ " + t.dossier_code : "") + (t.from_counter ? " · " + origin(t) : ""));
      if (t.dossier_code) { b.dataset.dossier = t.dossier_code; }
      if (t.from_counter) { b.dataset.from = t.from_counter; }
      text(b.querySelector(".age"), "lấy số " + hhmm(t.issued_at));
      b.title = "Số " + t.number + ": gọi ra quầy (không theo thứ tự), in lại phiếu hoặc hủy số";
      b.addEventListener("click", function () { openTicket(t); });
      x.appendChild(b); nx.appendChild(x);
    });

    var sv = $("served"); sv.innerHTML = "";
    view.served.slice(0, 60).forEach(function (s) {
      var x = li("", "out-" + s.outcome);
      x.dataset.ticket = s.ticket_id;
      x.appendChild(text(document.createElement("b"), s.number));
      x.appendChild(text(document.createElement("span"), OUTCOME[s.outcome] || s.outcome));
      x.appendChild(text(document.createElement("span"), dur(s.service_s)));
      x.appendChild(text(document.createElement("span"), hhmm(s.ended_at)));
      if (s.outcome === "no_show" && s.ticket_status === "no_show") {
        // The citizen marked absent came back: into the queue again (by the time they took the number).
        var rb = text(document.createElement("button"), "Đưa lại hàng chờ");
        rb.type = "button"; rb.className = "btn secondary small-btn reactivate";
        rb.title = "Công dân đã quay lại: đưa số " + s.number + " vào hàng chờ (theo giờ lấy số)";
        rb.addEventListener("click", function () { reactivate(s.ticket_id, s.number); });
        x.appendChild(rb);
      }
      sv.appendChild(x);
    });
    text($("served-count"), "(" + view.served.filter(function (s) { return s.outcome === "done"; }).length + ")");

    var held = $("held"); held.innerHTML = "";
    $("held-box").classList.toggle("hidden", !view.on_hold.length);
    view.on_hold.forEach(function (t) {
      var x = li("", "");
      x.appendChild(text(document.createElement("b"), t.number + " "));
      x.appendChild(text(document.createElement("span"), t.service_name + (t.from_counter ? " · " + origin(t) : "") + " "));
      var b = text(document.createElement("button"), "Tiếp tục phục vụ");
      b.className = "btn secondary small-btn resume"; b.type = "button";
      b.addEventListener("click", function () { act("resume", { ticket: t.id }); });
      x.appendChild(b); held.appendChild(x);
    });

    var paused = view.counter.paused;
    $("paused").classList.toggle("hidden", !paused);
    text($("paused"), paused ? "Quầy đang tạm dừng (" + view.counter.pause_reason + "): không nhận lượt gọi. Bấm Tiếp tục (F8) để làm việc lại." : "");
    text($("b-pause").querySelector(".label"), paused ? "Tiếp tục" : "Tạm dừng");
    document.body.classList.toggle("is-paused", !!paused);
    enable();
  }

  // Which buttons apply now ------------------------------------------------------------------
  function reasons() {
    var cur = view && view.current, paused = view && view.counter.paused;
    var waiting = view ? view.next.length : 0;
    var base = !online ? "Mất kết nối tới máy chủ." : (inflight ? "Đang xử lý…" : (!view ? "Đang tải…" : null));
    function r(ok, why) { return base || (ok ? null : why); }
    return {
      "b-next": r(!paused && waiting > 0, paused ? "Quầy đang tạm dừng." : "Không có ai đang chờ."),
      "b-call": r(!paused && waiting > 0, paused ? "Quầy đang tạm dừng." : "Không có ai đang chờ."),
      "b-recall": r(cur && cur.status === "called", cur ? "Công dân đã đến quầy." : "Chưa gọi số nào."),
      "b-skip": r(cur && cur.status === "called" && cur.recalls >= cfg.noShowAfterRecalls,
        !cur ? "Chưa gọi số nào." : (cur.status !== "called" ? "Công dân đã đến quầy." :
          "Cần gọi lại thêm " + (cfg.noShowAfterRecalls - cur.recalls) + " lần trước khi đánh dấu vắng mặt.")),
      "b-finish": r(!!cur, "Chưa gọi số nào."),
      "b-transfer": r(!!cur, "Chưa gọi số nào."),
      "b-pause": r(true, "")
    };
  }
  function enable() {
    var why = reasons();
    Object.keys(why).forEach(function (id) {
      var b = $(id);
      b.disabled = why[id] !== null;
      b.title = why[id] || "";
    });
    var cur = view && view.current;
    document.querySelectorAll(".next-item").forEach(function (b) { b.disabled = why["b-call"] !== null; });
    document.querySelectorAll(".resume").forEach(function (b) { b.disabled = !online || inflight || !!cur; });
    var busy = !online || inflight || !view;
    document.querySelectorAll(".reactivate, #cur-print, #cur-cancel, #undo-go").forEach(function (b) { b.disabled = busy; });
    var lost = !online && (everOnline || startupOver);  // no red banner while the page first connects
    $("offline").classList.toggle("hidden", !lost);
    document.body.classList.toggle("is-offline", lost);
    text($("why"), why["b-next"] && why["b-next"] !== "Đang xử lý…" && !cur ? why["b-next"] : "");
  }

  // Actions --------------------------------------------------------------------------------
  function act(path, body, headers) {
    return send("/api/v1/counters/" + n + "/" + path, body, headers);
  }
  function send(url, body, headers) {
    if (inflight || !online) { return Promise.resolve(null); }
    var path = url.split("/").pop();
    inflight = true; enable();
    return api.post(url, body, headers)
      .then(function (r) {
        if ((path === "call-next") && r && !r.ticket) { motcuaToast("Không còn ai đang chờ."); }
        return r;
      })
      .catch(function (e) { onApiError(e); return null; })
      .then(function (r) { inflight = false; enable(); refresh(); return r; });
  }

  // Calling a number finishes the current ticket on the server, which returns a pickup ticket's
  // dossier: when staff unticked "Trả kết quả", that ticket is finished first, keeping it.
  function keptFirst() {
    var cur = view && view.current;
    if (!cur || !cur.dossier_code || $("return-dossier").checked) { return Promise.resolve(true); }
    return act("finish", { return_dossier: false }).then(function (r) { return !!(r && r.ticket); });
  }
  function callNext() {
    return keptFirst().then(function (ok) {
      return ok ? act("call-next", {}, { "Idempotency-Key": MotcuaApi.newKey() }) : null;
    });
  }
  function finish() {
    addTyped();
    var body = dossiers.length ? { dossiers: dossiers.slice() } : {};
    var cur = view && view.current;
    var pickup = cur && cur.dossier_code ? cur.dossier_code : null;
    if (pickup) { body.return_dossier = $("return-dossier").checked; }
    return act("finish", body).then(function (r) {
      if (r && r.ticket) {
        motcuaToast("Đã kết thúc số " + r.ticket.number + (body.dossiers ? " · gắn " + body.dossiers.length + " hồ sơ" : "") +
          (pickup ? (body.return_dossier ? " · hồ sơ " + pickup + " đã trả kết quả" : " · hồ sơ " + pickup + " chưa trả kết quả") : "") + ".");
        dossiers = []; renderDossiers();
      }
    });
  }
  function skip() {
    var cur = view && view.current;
    return act("skip").then(function (r) {
      if (r && r.ticket && cur) { offerUndo(cur); }
    });
  }

  $("b-next").addEventListener("click", callNext);
  $("b-recall").addEventListener("click", function () { act("recall"); });
  $("b-skip").addEventListener("click", skip);
  $("b-finish").addEventListener("click", finish);
  $("b-transfer").addEventListener("click", function () { openTransfer(); });
  $("b-call").addEventListener("click", function () { $("c-number").value = ""; openDialog("dlg-call"); $("c-number").focus(); });
  $("b-pause").addEventListener("click", function () {
    if (view && view.counter.paused) { act("unpause"); return; }
    $("p-reason").value = ""; openDialog("dlg-pause");
  });
  // A tapped button keeps the focus; Enter from a scanner must never press it again.
  document.querySelectorAll(".actions .btn").forEach(function (b) {
    b.addEventListener("click", function () { b.blur(); });
  });

  // Dialogs --------------------------------------------------------------------------------
  function openDialog(id) {
    var d = $(id);
    if (!d.open) { d.showModal(); }
  }
  function closeDialogs() { document.querySelectorAll("dialog[open]").forEach(function (d) { d.close(); }); }
  function dialogOpen() { return !!document.querySelector("dialog[open]"); }
  document.querySelectorAll("dialog [data-close]").forEach(function (b) {
    b.addEventListener("click", function () { b.closest("dialog").close(); });
  });

  function openTransfer() {
    var cur = view && view.current;
    if (!cur) { return; }
    document.querySelectorAll("#dlg-transfer .dlg-number").forEach(function (e) { text(e, cur.number); });
    document.querySelectorAll("#t-fields [data-field]").forEach(function (b) {
      var same = b.dataset.field === cur.service;
      b.disabled = same; b.title = same ? "Số này đang ở lĩnh vực này." : "";
    });
    openDialog("dlg-transfer");
  }
  // The choices are built into the page and rebuilt from GET /api/v1/queue when the
  // administrator changes the office (config:changed), so clicks are taken on the lists.
  if (!$("t-counters")) {  // the page had no other counter: make room for those added later
    var tc = document.createElement("div"); tc.className = "choice-grid"; tc.id = "t-counters";
    var tp = document.createElement("p"); tp.className = "muted"; tp.id = "t-counters-label"; tp.textContent = "Hoặc chuyển thẳng đến một quầy:";
    var acts = document.querySelector("#dlg-transfer .dlg-actions");
    acts.parentNode.insertBefore(tp, acts); acts.parentNode.insertBefore(tc, acts);
  }
  $("t-fields").addEventListener("click", function (e) {
    var b = e.target.closest("[data-field]");
    if (!b || b.disabled) { return; }
    closeDialogs();
    act("transfer", { service: b.dataset.field }).then(function (r) {
      if (r && r.ticket) { motcuaToast("Đã chuyển số " + r.ticket.number + " sang " + r.ticket.service_name + "."); }
    });
  });
  $("t-counters").addEventListener("click", function (e) {
    var b = e.target.closest("[data-counter]");
    if (!b) { return; }
    closeDialogs();
    act("transfer", { counter: parseInt(b.dataset.counter, 10) }).then(function (r) {
      if (r && r.ticket) { motcuaToast("Đã chuyển số " + r.ticket.number + " đến quầy " + b.dataset.counter + "."); }
    });
  });
  function choice(attr, value, label) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "btn secondary choice"; b.setAttribute(attr, value); b.textContent = label;
    return b;
  }
  function rebuildTransfer() {
    api.get("/api/v1/queue").then(function (s) {
      var tf = $("t-fields"), tcs = $("t-counters");
      tf.innerHTML = ""; tcs.innerHTML = "";
      (s.services || []).forEach(function (f) { tf.appendChild(choice("data-field", f.code, f.name)); });
      var others = (s.counters || []).filter(function (c) { return c.number !== n; });
      others.forEach(function (c) { tcs.appendChild(choice("data-counter", c.number, c.name)); });
      tcs.hidden = !others.length;
      var label = tcs.previousElementSibling;
      if (label && label.tagName === "P") { label.hidden = !others.length; }
      var mine = (s.counters || []).filter(function (c) { return c.number === n; })[0];
      if (mine && Array.isArray(mine.fields)) { myFields = mine.fields; }
    }).catch(function () {});
  }

  document.querySelectorAll("#p-presets [data-reason]").forEach(function (b) {
    b.addEventListener("click", function () { closeDialogs(); act("pause", { reason: b.dataset.reason }); });
  });
  $("p-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var reason = $("p-reason").value.trim();
    if (!reason) { motcuaToast("Hãy chọn hoặc nhập lý do tạm dừng.", true); $("p-reason").focus(); return; }
    closeDialogs(); act("pause", { reason: reason });
  });

  $("c-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var num = $("c-number").value.trim().toUpperCase();
    if (!num) { $("c-number").focus(); return; }
    closeDialogs();
    keptFirst().then(function (ok) { if (ok) { act("call", { number: num }); } });
  });

  // One waiting ticket (tapped in the next list): call it out of order, reprint it, cancel it.
  var pendingCall = null;
  function openTicket(t) {
    if (inflight || !online) { return; }
    pendingCall = t;
    document.querySelectorAll("#dlg-confirm .dlg-number").forEach(function (e) { text(e, t.number); });
    text($("confirm-about"), t.service_name + " · lấy số lúc " + hhmm(t.issued_at) +
      (t.dossier_code ? " · hồ sơ " + t.dossier_code : "") + (t.from_counter ? " · " + origin(t) : ""));
    var paused = view && view.counter.paused;
    text($("confirm-text"), paused ? "Quầy đang tạm dừng: chưa gọi được số này." :
      "Gọi số " + t.number + " ra quầy ngay, không theo thứ tự?" +
      (view.current ? " Số " + view.current.number + " đang phục vụ sẽ được kết thúc." : ""));
    text($("confirm-go"), "Gọi số " + t.number);
    $("confirm-go").disabled = !!paused;
    openDialog("dlg-confirm");
    (paused ? $("confirm-print") : $("confirm-go")).focus();
  }
  $("confirm-go").addEventListener("click", function () {
    var t = pendingCall; pendingCall = null; closeDialogs();
    if (t) { keptFirst().then(function (ok) { if (ok) { act("call", { ticket: t.id }); } }); }
  });
  $("confirm-print").addEventListener("click", function () {
    var t = pendingCall; pendingCall = null; closeDialogs();
    if (t) { reprint(t); }
  });
  $("confirm-cancel").addEventListener("click", function () {
    var t = pendingCall; pendingCall = null; closeDialogs();
    if (t) { askCancel(t); }
  });
  $("cur-print").addEventListener("click", function () { if (view && view.current) { reprint(view.current); } });
  $("cur-cancel").addEventListener("click", function () { if (view && view.current) { askCancel(view.current); } });

  function reprint(t) {
    send("/api/v1/tickets/" + t.id + "/print", {}).then(function (r) {
      if (r && r.print_job) { motcuaToast("In lại phiếu số " + t.number + ": đã gửi tới máy in."); }
    });
  }
  // Cancelling cannot be undone: always asked first.
  var pendingCancel = null;
  function askCancel(t) {
    pendingCancel = t;
    document.querySelectorAll("#dlg-cancel .dlg-number").forEach(function (e) { text(e, t.number); });
    text($("cancel-text"), "Số " + t.number + " (" + t.service_name + ") sẽ bị hủy và rời khỏi hàng chờ." +
      (t.status === "called" ? " Công dân đang được mời đến quầy này." : ""));
    text($("cancel-go"), "Hủy số " + t.number);
    openDialog("dlg-cancel");
    $("dlg-cancel").querySelector("[data-close]").focus();
  }
  $("cancel-go").addEventListener("click", function () {
    var t = pendingCancel; pendingCancel = null; closeDialogs();
    if (!t) { return; }
    send("/api/v1/tickets/" + t.id + "/cancel", {}).then(function (r) {
      if (r && r.ticket) { motcuaToast("Đã hủy số " + t.number + "."); }
    });
  });

  // A citizen marked absent came back: into the queue again.
  function reactivate(id, number) {
    return send("/api/v1/tickets/" + id + "/reactivate", {}).then(function (r) {
      if (r && r.ticket) { motcuaToast("Số " + number + " đã được đưa lại hàng chờ."); }
      return r;
    });
  }
  // Vắng mặt can be undone for a few seconds: the number comes back to this counter.
  var UNDO_MS = 8000, undoTicket = null, undoTimer = null;
  function offerUndo(t) {
    undoTicket = t;
    text($("undo-text"), "Số " + t.number + " đã được đánh dấu vắng mặt.");
    $("undo").classList.remove("hidden");
    clearTimeout(undoTimer);
    undoTimer = setTimeout(hideUndo, UNDO_MS);
    enable();
  }
  function hideUndo() { clearTimeout(undoTimer); undoTicket = null; $("undo").classList.add("hidden"); }
  $("undo-go").addEventListener("click", function () {
    var t = undoTicket;
    if (!t) { return; }
    hideUndo();
    send("/api/v1/tickets/" + t.id + "/reactivate", {}).then(function (r) {
      if (!r || !r.ticket) { return; }
      if (view && (view.current || view.counter.paused)) {
        motcuaToast("Số " + t.number + " đã trở lại hàng chờ."); return;
      }
      return act("call", { ticket: t.id }).then(function (c) {
        motcuaToast(c && c.ticket ? "Đã hoàn tác: số " + t.number + " trở lại quầy này." : "Số " + t.number + " đã trở lại hàng chờ.");
      });
    });
  });

  // Dossier codes (typed or scanned) ---------------------------------------------------------
  function renderDossiers() {
    var ul = $("dossier-list"); ul.innerHTML = "";
    dossiers.forEach(function (code, i) {
      var x = li("", "chip");
      x.appendChild(text(document.createElement("span"), code));
      var rm = text(document.createElement("button"), "×");
      rm.type = "button"; rm.title = "Bỏ mã này"; rm.setAttribute("aria-label", "Bỏ mã " + code);
      rm.addEventListener("click", function () { dossiers.splice(i, 1); renderDossiers(); });
      x.appendChild(rm); ul.appendChild(x);
    });
  }
  function addCode(raw, scanned) {
    var code = (raw || "").trim().toUpperCase();
    if (!code) { return; }
    if (!view || !view.current) { motcuaToast("Chưa có lượt phục vụ nào để gắn mã hồ sơ " + code + ".", true); return; }
    if (dossiers.indexOf(code) < 0) {
      if (dossiers.length >= 20) { motcuaToast("Tối đa 20 mã hồ sơ cho một lượt.", true); return; }
      dossiers.push(code);
    }
    renderDossiers();
    if (scanned) { motcuaToast("Đã quét mã hồ sơ " + code + ".", false, 2000); }
  }
  function addTyped() { var i = $("dossier-input"); addCode(i.value, false); i.value = ""; }
  $("dossier-add").addEventListener("click", function () { addTyped(); $("dossier-input").focus(); });

  var scan = new MotcuaScanDetector({ maxGapMs: 50, minLength: 6 });
  function isTextInput(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  // Keyboard: F-keys for actions, scanner bursts for dossier codes --------------------------
  var KEYS = { F1: "b-next", F2: "b-recall", F3: "b-skip", F4: "b-finish", F6: "b-transfer", F7: "b-call", F8: "b-pause" };
  document.addEventListener("keydown", function (e) {
    var target = e.target;
    if (KEYS[e.key]) {
      e.preventDefault();
      if (e.repeat || dialogOpen()) { return; }
      var b = $(KEYS[e.key]);
      if (!b.disabled) { b.click(); }
      return;
    }
    if (dialogOpen()) { return; }
    var inDossier = target && target.id === "dossier-input";
    var code = scan.feed(e);
    if (e.key === "Enter") {
      if (inDossier) {
        e.preventDefault();
        var i = $("dossier-input");
        addCode(i.value, code !== null); i.value = "";
        return;
      }
      if (!isTextInput(target) && code !== null) {
        e.preventDefault(); // the scanner's Enter must not press a focused button
        addCode(code, true);
        return;
      }
      if (target && target.closest && target.closest(".actions, #next")) { e.preventDefault(); }
    }
  }, true);

  // Running timer --------------------------------------------------------------------------
  function tick() {
    if (!timerStart) { text($("cur-timer"), ""); return; }
    var s = Math.max(0, Math.floor((Date.now() - timerStart.getTime()) / 1000));
    text($("cur-timer"), "⏱ " + stopwatch(s));
    $("cur-timer").classList.toggle("long", s >= 15 * 60);
  }
  setInterval(tick, 1000);

  // Connection -----------------------------------------------------------------------------
  function setOnline(v) {
    if (v) { everOnline = true; }
    if (online === v) { return; }
    online = v;
    enable();
  }
  setTimeout(function () { startupOver = true; enable(); }, 2000);
  rt.on("online", function () {
    setOnline(true);
    rt.socket.emit("counter:watch", { counter: n });
    refresh();
  });
  rt.socket.on("disconnect", function () { setOnline(false); });
  rt.socket.on("connect_error", function () { setOnline(false); });
  rt.on("error", function (e) {
    if (e && e.error === "bad_token") { onApiError({ status: 401, message: e.message }); }
  });
  window.addEventListener("offline", function () { setOnline(false); });
  ["changed", "snapshot"].forEach(function (ev) { rt.on(ev, function () { refresh(); }); });
  rt.on("config:changed", function () { refresh(); rebuildTransfer(); });  // the administrator changed the office

  // Citizens sent here from another counter, and the rating of a visit just finished here.
  var me = (cfg.counters || []).filter(function (c) { return c.number === n; })[0];
  var myFields = me ? me.fields : [];
  rt.on("ticket:transferred", function (p) {
    var t = p && p.ticket;
    if (!t || p.from_counter === n) { return; }
    if (t.target_counter === n || (!t.target_counter && myFields.indexOf(t.service) >= 0)) {
      motcuaToast("Số " + t.number + " được chuyển đến từ quầy " + p.from_counter + " (" +
                  (t.service_name || t.service) + ").", false, 8000);
    }
  });
  var LEVEL = { very_satisfied: "Rất hài lòng", satisfied: "Hài lòng", unsatisfied: "Không hài lòng" };
  rt.on("rating:closed", function (p) {
    if (p && p.counter === n && p.reason === "rated" && LEVEL[p.level]) {
      motcuaToast("Công dân vừa đánh giá lượt phục vụ: " + LEVEL[p.level] + ".", false, 6000);
    }
  });

  // Results (trả kết quả): mark a dossier "result ready" (9) or "returned" (10).
  function markDossier(status) {
    var code = ($("result-code").value || "").trim().toUpperCase();
    if (!code) { motcuaToast("Hãy nhập hoặc quét mã hồ sơ.", true); return; }
    api.post("/api/v1/dossiers/" + encodeURIComponent(code) + "/status", { status: status })
      .then(function (d) {
        var label = d.status_label || (status === 9 ? "Đã xử lý xong" : "Đã trả kết quả");
        text($("result-msg"), "Hồ sơ " + code + ": " + label);
        $("result-msg").dataset.status = String(status);
      })
      .catch(function (e) { text($("result-msg"), e.message); $("result-msg").dataset.status = "error"; });
  }
  $("result-ready").addEventListener("click", function () { markDossier(9); });
  $("result-returned").addEventListener("click", function () { markDossier(10); });
  $("result-code").addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); } });

  // This counter's own devices (keypad, LED board, rating box): their state, live.
  var KIND_VI = { keypad: "Bàn phím gọi số", led: "Bảng LED", rating_box: "Hộp đánh giá" };
  var devices = {};
  function renderDevices() {
    var ul = $("devices"), names = Object.keys(devices).sort();
    ul.innerHTML = "";
    names.forEach(function (k) {
      var d = devices[k], li = document.createElement("li");
      li.dataset.device = d.name; li.dataset.state = d.state;
      li.textContent = (KIND_VI[d.kind] || d.kind) + ": " + (d.state_label || d.state) + (d.state === "ready" ? "" : " – " + (d.detail || ""));
      if (d.state !== "ready") { li.className = "device-problem"; }
      ul.appendChild(li);
    });
    $("devices-card").hidden = names.length === 0;
  }
  function takeDevice(d) {
    if (d && d.counter === n && KIND_VI[d.kind]) { devices[d.name] = d; renderDevices(); }
  }
  rt.on("device:status", takeDevice);
  rt.on("online", function () {
    api.get("/api/v1/devices").then(function (list) { (list || []).forEach(takeDevice); }).catch(function () {});
  });

  // A silent network loss (cable, Wi-Fi) does not close the socket at once: ask the server
  // every few seconds and lock the console when it does not answer.
  var pingSeq = 0, pingOk = 0;
  setInterval(function () {
    if (!rt.socket.connected) { return; }
    var mine = ++pingSeq;
    rt.socket.emit("ping:echo", { n: mine }, function () {
      pingOk = mine;
      if (rt.socket.connected && !online) { setOnline(true); refresh(); }
    });
    setTimeout(function () { if (pingOk < mine && rt.socket.connected) { setOnline(false); } }, 2500);
  }, 3000);
  setInterval(function () { if (online && !inflight) { refresh(); } }, 30000);

  var sw = $("switch-counter");
  if (sw) { sw.addEventListener("change", function () { location.href = "/counter/" + sw.value; }); }
  enable();
})();
