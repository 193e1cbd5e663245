// "Tra cứu hồ sơ": scan (camera or keyboard-wedge scanner) or type a dossier code, see its status
// in plain Vietnamese; the applicant's name in full only after the second factor (mã tra cứu).
(function (global) {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var MAX_CODE = 64, MAX_SECRET = 32;

  function init(ctx) {
    var api = ctx.api, t = ctx.t, I = ctx.i18n, screens = ctx.screens;
    var current = null;          // the dossier on screen (public or verified view)
    var searching = false;

    // Code entry ---------------------------------------------------------------------------------
    function renderCode(v) {
      var el = $("l-code");
      el.textContent = v;
      el.classList.toggle("empty", !v);
      if (!v) { el.textContent = "…"; }
      hideError("l-error");
    }
    var codeKb = KioskKeyboard.attach($("l-keyboard"), {
      layout: "code", maxLength: MAX_CODE, enterLabel: t("lookup.go"),
      onChange: renderCode, onEnter: function (v) { search(v); }
    });
    I.onChange(function () { codeKb.setEnterLabel(t("lookup.go")); secretKb.setEnterLabel(t("verify.go")); });

    function showError(id, msg, enKey) {
      var el = $(id);
      el.innerHTML = "";
      var a = document.createElement("div"); a.textContent = msg; el.appendChild(a);
      var en = enKey ? t(enKey, null, "en") : "";
      if (en && en !== enKey && en !== msg) {
        var b = document.createElement("div"); b.className = "en"; b.textContent = en; el.appendChild(b);
      }
      el.classList.remove("hidden", "invisible");
    }
    // The error keeps its place when hidden, so the keyboard never moves under a finger.
    function hideError(id) { $(id).classList.add("invisible"); }

    // What a citizen reads when a code is refused: the server's message, except for a code of
    // the wrong shape, which the server explains for staff (its parts by name).
    function showLookupError(e) {
      if (e && e.code === "invalid_code") { showError("l-error", t("lookup.bad_code"), "lookup.bad_code"); return; }
      showError("l-error", e.message, e.code ? "err." + e.code : "");
    }
    function open(code, error) {
      clearDossier();
      codeKb.set(code || "");
      screens.show("lookup");
      if (error) { showLookupError(error); }
    }
    function search(code) {
      code = String(code || "").trim().toUpperCase();
      if (!code) { showError("l-error", t("lookup.empty")); return; }
      if (searching) { return; }
      searching = true;
      $("l-code").classList.add("working");
      api.get("/api/v1/dossiers/" + encodeURIComponent(code)).then(function (d) {
        showDossier(d);
      }).catch(function (e) {
        if (ctx.lost(e)) { return; }
        if (screens.current !== "lookup") { open(code); }
        showLookupError(e);
      }).then(function () { searching = false; $("l-code").classList.remove("working"); });
    }

    // Scans: the kiosk camera (kiosk:scan from the server) and keyboard-wedge scanners ---------
    function fromCamera(p) {
      if (p.dossier) { showDossier(p.dossier); return; }
      // A code without the dossier: ask the API (it says plainly when the code is unknown).
      if (p.code) { search(p.code); return; }
      open("", { message: t("scan.not_found"), code: "" });
    }
    function scan(text) {
      text = String(text || "").trim();
      if (!text) { return; }
      api.get("/api/v1/lookup/scan?text=" + encodeURIComponent(text.slice(0, 1000))).then(function (r) {
        var d = r && r.dossier !== undefined ? r.dossier : r;
        if (d && d.code && d.status_label) { showDossier(d); return; }
        open(r && r.code ? r.code : "", { message: t("scan.not_found"), code: "" });
      }).catch(function (e) {
        if (ctx.lost(e)) { return; }
        var code = e.data && e.data.code ? e.data.code : "";
        open(code, e);
      });
    }

    // One dossier ---------------------------------------------------------------------------------
    function setText(id, v) { $(id).textContent = v === null || v === undefined ? "" : String(v); }
    function fmtDate(iso, text) {
      if (text) { return text; }
      if (!iso) { return ""; }
      var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
      return m ? m[3] + "/" + m[2] + "/" + m[1] : iso;
    }
    function toggle(cls, on) { document.querySelectorAll("." + cls).forEach(function (e) { e.classList.toggle("hidden", !on); }); }
    function statusClass(d) {
      if (d.ready) { return "ok"; }
      if (d.late) { return "late"; }
      if ([3, 7, 8].indexOf(d.status) >= 0) { return "stopped"; }
      if ([5, 6].indexOf(d.status) >= 0) { return "action"; }
      return "progress";
    }
    function renderDossier() {
      var d = current;
      var st = $("d-status");
      st.className = "d-status " + statusClass(d);
      st.innerHTML = "";
      var en = I.lang() === "en" && d.status_label_en;
      var a = document.createElement("span"); a.textContent = en ? d.status_label_en : (d.status_label || "");
      st.appendChild(a);
      var second = en ? d.status_label : d.status_label_en;
      if (second) { var b = document.createElement("span"); b.className = "en"; b.textContent = second; st.appendChild(b); }
      var tl = $("d-timeliness");
      tl.className = "d-timeliness " + (d.late ? "late" : "fine");
      if (d.late) {
        tl.textContent = d.days_late ? t("dossier.late", { d: d.days_late }) : t("dossier.late_nodays");
      } else {
        tl.textContent = d.timeliness_label || (d.finished ? t("dossier.on_time") : t("dossier.in_time"));
      }
      setText("d-code", d.code);
      setText("d-procedure", typeof d.procedure === "object" && d.procedure ? d.procedure.name : d.procedure);
      setText("d-applicant", d.applicant);
      $("d-applicant").classList.toggle("masked", !d.verified);
      toggle("d-phone", !!(d.verified && d.phone));
      setText("d-phone", d.phone || "");
      setText("d-received", fmtDate(d.received_at, d.received_at_text));
      setText("d-due", fmtDate(d.due_at, d.due_at_text));
      toggle("d-newdue", !!d.new_due_at);
      setText("d-newdue", fmtDate(d.new_due_at, d.new_due_at_text));
      setText("d-next", d.next_step || "");
      var ap = $("d-apology");
      ap.classList.toggle("hidden", !d.apology);
      ap.textContent = d.apology ? t("dossier.apology") + ": " + d.apology : "";
      setText("d-privacy", d.verified ? t("dossier.verified") : t("dossier.masked"));
      $("d-verify").classList.toggle("hidden", !!d.verified);
      var rs = ctx.resultsService();
      $("d-ready").classList.toggle("hidden", !(d.ready && rs));
    }
    function showDossier(d) {
      current = d;
      secretKb.clear();
      hideError("v-error");
      renderDossier();
      // Personal details stay on screen a shorter while when the citizen walks away.
      screens.show("dossier", d.verified ? ctx.verifiedIdleSeconds : undefined);
    }
    function clearDossier() {
      // Personal data leaves the screen (and memory) as soon as the citizen moves on.
      current = null;
      ["d-code", "d-procedure", "d-applicant", "d-phone", "d-received", "d-due", "d-newdue", "d-next",
       "d-status", "d-timeliness", "d-apology"].forEach(function (id) { $(id).textContent = ""; });
      secretKb.clear();
      hideError("v-error");
    }
    screens.on("show", function (name) {
      if (name !== "dossier" && name !== "verify" && current) { clearDossier(); }
    });
    I.onChange(function () { if (current) { renderDossier(); } });
    function backToDossier() {
      if (current) { screens.show("dossier"); } else { open(); }
    }

    // Second factor ----------------------------------------------------------------------------
    function renderSecret(v) {
      var el = $("v-secret");
      // Shown as dots except the last character typed, so a passer-by cannot read it.
      el.textContent = v ? new Array(v.length).join("•") + v.slice(-1) : "…";
      el.classList.toggle("empty", !v);
    }
    var secretKb = KioskKeyboard.attach($("v-keyboard"), {
      layout: "secret", maxLength: MAX_SECRET, enterLabel: t("verify.go"),
      onChange: function (v) { renderSecret(v); if (v) { hideError("v-error"); } },
      onEnter: function (v) { verify(v); }
    });
    var verifying = false;
    function verify(secret) {
      if (!current) { return; }
      if (!secret) { showError("v-error", t("verify.empty")); return; }
      if (verifying) { return; }
      verifying = true;
      api.post("/api/v1/dossiers/" + encodeURIComponent(current.code) + "/verify", { ma_tra_cuu: secret })
        .then(function (d) { showDossier(d); })
        .catch(function (e) {
          if (ctx.lost(e)) { return; }
          secretKb.clear();
          showError("v-error", e.message, e.code ? "err." + e.code : "");
          $("v-error").classList.toggle("throttled", e.status === 429);
        })
        .then(function () { verifying = false; });
    }
    $("d-verify").addEventListener("click", function () {
      secretKb.clear(); hideError("v-error");
      screens.show("verify");
    });

    // Results ticket -------------------------------------------------------------------------------
    $("d-take").addEventListener("click", function () {
      var rs = ctx.resultsService();
      if (!current || !rs) { return; }
      ctx.issue(rs.code, null, current.code);
    });

    renderCode(""); renderSecret("");
    return { open: open, search: search, scan: scan, fromCamera: fromCamera, showDossier: showDossier,
             backToDossier: backToDossier };
  }
  global.KioskLookup = { init: init };
})(window);
