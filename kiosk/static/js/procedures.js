// "Thủ tục hành chính": browse the procedure catalogue by field or search it (accents optional),
// read what to bring, print the checklist on the ticket printer, take a number for its field.
// A search inside a chosen field says so and offers every field. Only the newest answer is
// shown: an answer to an older request (a slow server) is dropped (`seq`, `detailSeq`).
(function (global) {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var SEARCH_DELAY_MS = 250, LIST_LIMIT = 200, SEARCH_LIMIT = 50, PRINT_COOLDOWN_MS = 5000;

  function init(ctx) {
    var api = ctx.api, t = ctx.t, I = ctx.i18n, screens = ctx.screens;
    var fields = null, field = "", query = "", seq = 0, detailSeq = 0, timer = null, current = null;

    function renderQuery(v) {
      var el = $("p-query");
      el.textContent = v || t("proc.search");
      el.classList.toggle("empty", !v);
    }
    var kb = KioskKeyboard.attach($("p-keyboard"), {
      layout: "text", maxLength: 80,
      onChange: function (v) { query = v; renderQuery(v); renderScope(); schedule(); }
    });
    function showKeyboard(on) {
      $("p-keyboard").classList.toggle("hidden", !on);
      $("p-layout").classList.toggle("kb-open", on);
      $("p-kb-toggle").setAttribute("aria-pressed", on ? "true" : "false");
    }
    $("p-query").addEventListener("click", function () { showKeyboard(true); });
    $("p-kb-toggle").addEventListener("click", function () {
      showKeyboard($("p-keyboard").classList.contains("hidden"));
    });

    function renderFields() {
      var box = $("p-fields");
      box.innerHTML = "";
      var all = [{ code: "", name: t("proc.all") }].concat(fields || []);
      all.forEach(function (f) {
        var b = document.createElement("button");
        b.type = "button"; b.className = "chip"; b.dataset.field = f.code; b.setAttribute("role", "tab");
        b.dataset.testid = "procedure-field-" + (f.code || "ALL");
        b.setAttribute("aria-selected", f.code === field ? "true" : "false");
        b.textContent = f.name + (f.count ? " (" + f.count + ")" : "");
        b.addEventListener("click", function () { chooseField(f.code); });
        box.appendChild(b);
      });
      renderScope();
    }
    function chooseField(code) {
      field = code;
      clearTimeout(timer);
      renderFields();
      load();
    }
    function fieldName(code) {
      var f = (fields || []).find(function (x) { return x.code === code; });
      return f ? f.name : code;
    }
    // Where the search looks: "Đang tìm trong lĩnh vực Đất đai" and "Tìm trong tất cả lĩnh vực".
    function renderScope() {
      var q = query.trim();
      $("p-scope").textContent = q ? (field ? t("proc.scope_field", { f: fieldName(field) }) : t("proc.scope_all")) : "";
      $("p-all").classList.toggle("hidden", !(q && field));
    }
    $("p-all").addEventListener("click", function () { chooseField(""); });
    function loadFields() {
      if (fields) { return; }
      api.get("/api/v1/procedures/fields").then(function (fs) { fields = fs; renderFields(); })
        .catch(function () { fields = null; });
    }
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(load, SEARCH_DELAY_MS);
    }
    function load() {
      var mine = ++seq;
      var q = query.trim();
      var url = "/api/v1/procedures?limit=" + (q ? SEARCH_LIMIT : LIST_LIMIT) +
        (q ? "&q=" + encodeURIComponent(q) : "") + (field ? "&field=" + encodeURIComponent(field) : "");
      return api.get(url).then(function (items) {
        if (mine !== seq) { return; } // a newer search has started: this answer is stale
        renderList(items, q, field);
      }).catch(function (e) {
        if (mine !== seq || ctx.lost(e)) { return; }
        $("p-list").innerHTML = "";
        var p = document.createElement("p"); p.className = "inline-error"; p.textContent = e.message;
        $("p-list").appendChild(p);
      });
    }
    function onlineBadge(mode) {
      var s = document.createElement("span");
      s.className = "badge online-" + (mode === "toàn trình" ? "full" : mode === "một phần" ? "part" : "none");
      s.textContent = t(mode === "toàn trình" ? "proc.badge.full" : mode === "một phần" ? "proc.badge.part" : "proc.badge.none");
      return s;
    }
    function renderList(items, q, inField) {
      var box = $("p-list");
      box.innerHTML = "";
      renderScope();
      $("p-count").textContent = t("proc.count", { n: items.length });
      if (!items.length) {
        var p = document.createElement("p"); p.className = "empty-list";
        p.textContent = q && inField ? t("proc.none_in_field", { f: fieldName(inField) }) : t("proc.none");
        box.appendChild(p); return;
      }
      items.forEach(function (it) {
        var b = document.createElement("button");
        b.type = "button"; b.className = "p-item"; b.dataset.code = it.code;
        var n = document.createElement("span"); n.className = "p-name"; n.textContent = it.name;
        var meta = document.createElement("span"); meta.className = "p-meta";
        meta.textContent = it.field_name || "";
        meta.appendChild(onlineBadge(it.online));
        b.appendChild(n); b.appendChild(meta);
        b.addEventListener("click", function () { detail(it.code); });
        box.appendChild(b);
      });
    }
    function open() {
      current = null;
      screens.show("procedures");
      renderQuery(query);
      loadFields();
      if (fields) { renderFields(); }
      load();
    }
    screens.on("show", function (name) {
      // A new visitor starts afresh: forget the last search when the kiosk goes home.
      if (name === "home") { query = ""; field = ""; kb.set(""); clearTimeout(timer); showKeyboard(false); seq++; detailSeq++; }
    });
    I.onChange(function () { renderQuery(query); if (fields) { renderFields(); } else { renderScope(); }
                             if (current) { renderDetail(); } });

    // One procedure ---------------------------------------------------------------------------------
    function cell(tr, text, cls, span) {
      var td = document.createElement("td");
      if (cls) { td.className = cls; }
      if (span) { td.colSpan = span; }
      td.textContent = text;
      tr.appendChild(td);
      return td;
    }
    function renderDetail() {
      var p = current;
      $("pd-field").textContent = p.field_name || "";
      $("pd-name").textContent = p.name;
      var body = $("pd-docs");
      body.innerHTML = "";
      (p.documents || []).forEach(function (d, i) {
        var tr = document.createElement("tr");
        cell(tr, String(i + 1), "num");
        var name = cell(tr, d.name, "doc");
        var showOnly = !d.original && !d.copy;
        // A paper only shown says "Xuất trình" in its own column: the note need not say it again.
        var note = showOnly ? String(d.note || "").replace(/^\s*xuất trình\s*[;:,.]?\s*/i, "") : d.note;
        if (note) { var n = document.createElement("div"); n.className = "doc-note"; n.textContent = note; name.appendChild(n); }
        if (showOnly) { cell(tr, t("proc.show_only"), "count show-only", 2); }
        else { cell(tr, d.original ? String(d.original) : "—", "count"); cell(tr, d.copy ? String(d.copy) : "—", "count"); }
        body.appendChild(tr);
      });
      $("pd-time").textContent = p.time_limit || "";
      $("pd-fees").textContent = p.fees || "";
      $("pd-where").textContent = p.where || "";
      $("pd-online").innerHTML = "";
      $("pd-online").appendChild(onlineBadge(p.online));
      var txt = document.createElement("span"); txt.textContent = " " + t("proc.online." + (p.online || "không"));
      $("pd-online").appendChild(txt);
      document.querySelectorAll(".pd-result").forEach(function (e) { e.classList.toggle("hidden", !p.result); });
      $("pd-result").textContent = p.result || "";
      // "Lấy số thứ tự" for the office's field that handles this procedure (when the kiosk gives numbers for it).
      var svc = p.ticket_service && ctx.service(p.ticket_service.code);
      $("pd-take").classList.toggle("hidden", !svc);
      $("pd-take-field").textContent = svc ? t("proc.take_field", { f: svc.name }) : "";
    }
    function detail(code) {
      var mine = ++detailSeq;
      api.get("/api/v1/procedures/" + encodeURIComponent(code)).then(function (p) {
        if (mine !== detailSeq || screens.current !== "procedures") { return; } // tapped another, or left
        current = p;
        $("pd-print-state").classList.add("hidden");
        renderDetail();
        screens.show("procedure");
      }).catch(function (e) { if (mine === detailSeq && !ctx.lost(e)) { ctx.showMessage(e); } });
    }
    $("pd-take").addEventListener("click", function () {
      var svc = current && current.ticket_service && ctx.service(current.ticket_service.code);
      if (svc) { ctx.chooseField(svc); }
    });

    // Print the checklist --------------------------------------------------------------------------
    var printing = false, lastJob = null;
    ctx.rt.on("print:job", function (p) {
      // The checklist's job failing after it was queued (paper out, printer off).
      if (!p || !lastJob || p.job_id !== lastJob || screens.current !== "procedure") { return; }
      if (p.state === "failed") {
        printState(t("proc.print_failed") + (p.message ? " (" + p.message + ")" : ""), "error", t("proc.print_failed", null, "en"));
      }
    });
    function printState(msg, cls, enLine) {
      var el = $("pd-print-state");
      el.className = "print-state " + (cls || "");
      el.innerHTML = "";
      var a = document.createElement("div"); a.textContent = msg; el.appendChild(a);
      if (enLine && I.lang() === "vi") { var b = document.createElement("div"); b.className = "en"; b.textContent = enLine; el.appendChild(b); }
    }
    $("pd-print").addEventListener("click", function () {
      if (!current || printing) { return; }
      printing = true;
      var btn = $("pd-print");
      btn.disabled = true;
      printState(t("proc.printing"));
      api.post("/api/v1/procedures/" + encodeURIComponent(current.code) + "/print", {}).then(function (r) {
        var job = r.print_job || {};
        lastJob = job.job_id || job.id || null;
        if (job.state === "failed" || job.printer_ok === false) {
          printState(t("proc.print_failed") + (job.message ? " (" + job.message + ")" : ""), "error", t("proc.print_failed", null, "en"));
        } else {
          printState(t("proc.printed"), "ok", t("proc.printed", null, "en"));
        }
      }).catch(function (e) {
        if (ctx.lost(e)) { return; }
        printState(e.message, "error", e.code ? t("err." + e.code, null, "en").replace("err." + e.code, "") : "");
      }).then(function () {
        setTimeout(function () { printing = false; btn.disabled = false; }, PRINT_COOLDOWN_MS);
      });
    });

    return { open: open, detail: detail, reload: load };
  }
  global.KioskProcedures = { init: init };
})(window);
