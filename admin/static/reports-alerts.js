// Service-level alerts block (motcua/alerts.py), for any signed-in staff or admin page.
//
//   <section id="motcua-alerts" class="card"></section>
//   <script src="/admin/static/reports-alerts.js"></script>   (or /admin/reports/static/...)
//   MotcuaAlerts.start({ el: "motcua-alerts", api: new MotcuaApi(token), rt: realtimeOfThePage });
//
// Shows the alerts open now (what, since when, for how long) and the last ones that ended,
// from GET /api/v1/alerts, then follows `alert:changed` on the page's Socket.IO connection
// (rooms staff/admins) and reloads after a reconnection. The element gets the class
// "has-alerts" while an alert is open.
(function (global) {
  "use strict";
  function el(tag, cls, txt) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (txt !== undefined) { e.textContent = txt; }
    return e;
  }
  function hm(iso) { return iso ? iso.slice(11, 16) : ""; }
  function dur(s) {
    s = Math.max(0, Math.round(s || 0));
    if (s < 60) { return s + " giây"; }
    var m = Math.floor(s / 60);
    if (m < 60) { return m + " phút"; }
    return Math.floor(m / 60) + " giờ" + (m % 60 ? " " + (m % 60) + " phút" : "");
  }

  function start(opts) {
    var box = typeof opts.el === "string" ? document.getElementById(opts.el) : (opts.el || document.getElementById("motcua-alerts"));
    if (!box) { return null; }
    var api = opts.api, state = { active: [], recent: [] }, fetchedAt = Date.now();
    box.innerHTML = "";
    var title = el("h2", "alerts-title", "Cảnh báo chất lượng phục vụ ");
    title.appendChild(el("span", "en", "Service alerts"));
    var list = el("ul", "alerts-active plain"); list.dataset.testid = "alerts-active";
    var none = el("p", "muted alerts-none", "Không có cảnh báo nào.");
    var recentTitle = el("h3", "alerts-recent-title muted", "Đã kết thúc gần đây");
    var recent = el("ul", "alerts-recent plain small"); recent.dataset.testid = "alerts-recent";
    [title, none, list, recentTitle, recent].forEach(function (x) { box.appendChild(x); });

    function render() {
      list.innerHTML = ""; recent.innerHTML = "";
      var since = Math.floor((Date.now() - fetchedAt) / 1000);
      state.active.forEach(function (a) {
        var li = el("li", "alert-item kind-" + a.kind); li.dataset.kind = a.kind; li.dataset.subject = a.subject;
        li.appendChild(el("strong", "", a.kind_label + ": "));
        li.appendChild(el("span", "", a.message + " "));
        li.appendChild(el("span", "muted", "Từ " + hm(a.started_at) + " (đã " + dur(a.duration_s + since) + ")."));
        list.appendChild(li);
      });
      var ended = state.recent.filter(function (a) { return !a.active; }).slice(0, 5);
      ended.forEach(function (a) {
        recent.appendChild(el("li", "", hm(a.started_at) + "–" + hm(a.ended_at) + " · " + a.kind_label + ": " + a.message));
      });
      none.classList.toggle("hidden", state.active.length > 0);
      recentTitle.classList.toggle("hidden", ended.length === 0);
      box.classList.toggle("has-alerts", state.active.length > 0);
    }
    function load() {
      api.get("/api/v1/alerts?limit=20").then(function (d) {
        state = d; fetchedAt = Date.now(); render();
      }).catch(function (e) { if (e.status !== 401 && global.motcuaToast) { global.motcuaToast(e.message, true); } });
    }
    if (opts.rt) {
      opts.rt.socket.on("alert:changed", function (p) {
        state.active = p.active || [];
        if (p.alert) {
          state.recent = [p.alert].concat(state.recent.filter(function (a) { return a.id !== p.alert.id; }));
        }
        fetchedAt = Date.now(); render();
      });
      opts.rt.on("online", load);
    }
    setInterval(render, 30000);
    load();
    return { reload: load };
  }
  global.MotcuaAlerts = { start: start };
})(window);
