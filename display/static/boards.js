// The display's dossier panels: results ready (Hồ sơ đã có kết quả) and late results with their
// new dates (Xin lỗi ... hẹn lại ngày). Each is fetched from the API (hidden while its endpoint
// does not exist), a newer answer is never overwritten by an older one, and a long list is
// shown a page of whole rows at a time ("(1/3)" in the title), the next page every PAGE_MS: a
// row cut in half, or text sliding past, cannot be read from across the hall.
(function (global) {
  "use strict";
  var PANEL_MAX = 50;          // rows per panel
  var DEBOUNCE_MS = 400;       // dossier:updated events in a burst: one fetch
  var PAGE_MS = 8000;          // how long each page stays

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function pick(o, keys) {
    for (var i = 0; i < keys.length; i++) {
      if (o && o[keys[i]] !== undefined && o[keys[i]] !== null && o[keys[i]] !== "") { return o[keys[i]]; }
    }
    return "";
  }
  function listOf(d) {
    if (Array.isArray(d)) { return d; }
    if (!d || typeof d !== "object") { return []; }
    return d.items || d.dossiers || d.results || d.apologies || [];
  }
  function viDate(v) {
    if (!v) { return ""; }
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(v));
    return m ? m[3] + "/" + m[2] + "/" + m[1] : String(v);
  }
  function readyRow(d) {
    var li = el("li");
    li.dataset.code = pick(d, ["code", "ma_ho_so"]);
    li.appendChild(el("b", "d-code", li.dataset.code));
    li.appendChild(el("span", "d-name", pick(d, ["applicant_masked", "applicant", "name", "nguoi_nop"])));
    return li;  // (a procedure's long name does not fit at a size readable from the hall)
  }
  function apologyRow(d) {
    var li = readyRow(d);
    var nd = viDate(pick(d, ["new_due_at_text", "new_due_at", "new_due_date", "new_date", "ngay_hen_moi"]));
    li.appendChild(el("span", "d-date", nd ? "Hẹn lại: " + nd : ""));
    return li;
  }

  // Whole rows, a page at a time.
  function Pager(panel, ul) {
    this.panel = panel; this.ul = ul; this.starts = [0]; this.page = 0; this.timer = null;
    this.mark = panel.querySelector("h2").appendChild(el("span", "page-no"));
  }
  Pager.prototype.reset = function () {
    clearInterval(this.timer); this.timer = null;
    this.page = 0;
    var rows = this.ul.children, box = this.ul.parentNode.clientHeight, starts = [0];
    for (var i = 1; i < rows.length; i++) {
      var top = rows[starts[starts.length - 1]].offsetTop;
      if (rows[i].offsetTop + rows[i].offsetHeight - top > box + 1) { starts.push(i); }
    }
    this.starts = box > 0 ? starts : [0];
    this.show();
    var self = this;
    if (this.starts.length > 1) {
      this.timer = setInterval(function () { self.page = (self.page + 1) % self.starts.length; self.show(); }, PAGE_MS);
    }
  };
  Pager.prototype.show = function () {
    var rows = this.ul.children, from = this.starts[this.page], to = this.starts[this.page + 1] || rows.length;
    for (var i = 0; i < rows.length; i++) { rows[i].classList.toggle("off", i < from || i >= to); }
    this.ul.style.transform = rows.length && from ? "translateY(-" + rows[from].offsetTop + "px)" : "";
    this.mark.textContent = this.starts.length > 1 ? " (" + (this.page + 1) + "/" + this.starts.length + ")" : "";
  };

  global.MotcuaDossierBoards = function (fetchJson) {
    var panels = [
      { url: "/api/v1/dossiers/ready", panel: "ready-panel", list: "ready-list", row: readyRow },
      { url: "/api/v1/dossiers/apologies", panel: "apology-panel", list: "apology-list", row: apologyRow }
    ];
    var $ = function (id) { return document.getElementById(id); };
    var timer = null;
    panels.forEach(function (p) { p.asked = 0; p.shown = 0; p.pager = new Pager($(p.panel), $(p.list)); });

    function showRow() {
      var any = panels.some(function (p) { return !$(p.panel).classList.contains("hidden"); });
      $("dossiers").classList.toggle("hidden", !any);
    }
    function fill(p, items) {
      var frag = document.createDocumentFragment();
      items.slice(0, PANEL_MAX).forEach(function (d) { frag.appendChild(p.row(d)); });
      $(p.list).replaceChildren(frag);
      $(p.panel).classList.toggle("empty", items.length === 0);
      $(p.panel).classList.remove("hidden");
      showRow();
      p.pager.reset();
    }
    function loadOne(p) {
      var mine = ++p.asked;
      return fetchJson(p.url).then(function (d) {
        if (mine < p.shown) { return; }  // a newer answer is already on the screen
        p.shown = mine;
        fill(p, listOf(d));
      }, function (e) {
        if (mine < p.shown) { return; }
        if (e.status === 404 || e.status === 401 || e.status === 403) { $(p.panel).classList.add("hidden"); }
        // other failures (network): keep what is shown; the next snapshot or event refreshes it
        showRow();
      });
    }
    function load() {
      clearTimeout(timer);
      timer = null;
      panels.forEach(loadOne);
    }
    // The boxes change size with the screen, the notices bar, the other panel: pages again.
    if (global.ResizeObserver) {
      panels.forEach(function (p) {
        var last = -1;
        new ResizeObserver(function () {
          var h = $(p.list).parentNode.clientHeight;
          if (h !== last) { last = h; p.pager.reset(); }
        }).observe($(p.list).parentNode);
      });
    } else {
      window.addEventListener("resize", function () { panels.forEach(function (p) { p.pager.reset(); }); });
    }
    return {
      load: load,
      loadSoon: function () { if (!timer) { timer = setTimeout(load, DEBOUNCE_MS); } }
    };
  };
})(window);
