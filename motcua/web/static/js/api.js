// motcua API helper: JSON in, JSON out, Vietnamese error messages from the server.
(function (global) {
  "use strict";
  function newKey() {
    if (global.crypto && global.crypto.randomUUID) { return global.crypto.randomUUID(); }
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }
  function Api(token) { this.token = token || null; }
  Api.prototype.request = function (method, path, body, extraHeaders) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (this.token) { headers["Authorization"] = "Bearer " + this.token; }
    if (method !== "GET" && method !== "HEAD") {
      // A change made with the session cookie carries this page's token (the server refuses it otherwise).
      var csrf = global.document && global.document.querySelector('meta[name="motcua-csrf"]');
      if (csrf && csrf.content) { headers["X-Motcua-CSRF"] = csrf.content; }
    }
    Object.keys(extraHeaders || {}).forEach(function (k) { headers[k] = extraHeaders[k]; });
    var ctrl = new AbortController();
    var timer = setTimeout(function () { ctrl.abort(); }, 8000);
    return fetch(path, { method: method, headers: headers, signal: ctrl.signal,
                         body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        clearTimeout(timer);
        return r.json().catch(function () { return {}; }).then(function (data) {
          if (!r.ok) {
            var err = new Error(data.message || ("Lỗi " + r.status));
            err.status = r.status; err.code = data.error; err.data = data;
            throw err;
          }
          return data;
        });
      }, function (e) {
        clearTimeout(timer);
        var err = new Error("Mất kết nối tới máy chủ. Vui lòng thử lại.");
        err.status = 0; err.code = "network"; throw err;
      });
  };
  Api.prototype.get = function (p) { return this.request("GET", p); };
  Api.prototype.post = function (p, b, h) { return this.request("POST", p, b === undefined ? {} : b, h); };
  Api.newKey = newKey;
  global.MotcuaApi = Api;

  global.motcuaToast = function (msg, isError, ms) {
    var el = document.createElement("div");
    el.className = "toast" + (isError ? " error" : "");
    el.setAttribute("role", "status");
    el.textContent = msg;
    document.body.appendChild(el);
    setTimeout(function () { el.remove(); }, ms || 4000);
  };
  // The office's clock, whatever time zone the PC is set to: the zone comes from the server
  // (<meta name="motcua-timezone"> in base.html). motcuaClock(el) keeps el ticking;
  // motcuaClock.time(date, seconds) and motcuaClock.date(date) print a moment in that zone.
  var DAYS = ["Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"];
  var WEEKDAY = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
  var clockFormat = null;
  function officeParts(d) {
    if (!clockFormat) {
      var meta = global.document && global.document.querySelector('meta[name="motcua-timezone"]');
      var opts = { hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
                   minute: "2-digit", second: "2-digit", weekday: "short" };
      try {
        clockFormat = new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: (meta && meta.content) || undefined }, opts));
      } catch (e) {  // an unknown zone name: the PC's own
        clockFormat = new Intl.DateTimeFormat("en-GB", opts);
      }
    }
    var p = {};
    clockFormat.formatToParts(d || new Date()).forEach(function (x) { p[x.type] = x.value; });
    p.weekdayIndex = WEEKDAY[p.weekday] || 0;
    return p;
  }
  global.motcuaClock = function (el) {
    function tick() {
      var now = new Date();
      el.textContent = "";
      el.appendChild(document.createTextNode(global.motcuaClock.time(now, true)));
      el.appendChild(document.createElement("br"));
      el.appendChild(document.createElement("small")).textContent = global.motcuaClock.date(now);
    }
    tick(); setInterval(tick, 1000);
  };
  global.motcuaClock.parts = officeParts;
  global.motcuaClock.time = function (d, seconds) {
    var p = officeParts(d);
    return p.hour + ":" + p.minute + (seconds ? ":" + p.second : "");
  };
  global.motcuaClock.date = function (d) {
    var p = officeParts(d);
    return DAYS[p.weekdayIndex] + ", " + p.day + "/" + p.month + "/" + p.year;
  };
})(window);
