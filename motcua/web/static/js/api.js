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
  global.motcuaClock = function (el) {
    var days = ["Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"];
    function pad(n) { return n < 10 ? "0" + n : "" + n; }
    function tick() {
      var d = new Date();
      el.innerHTML = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) +
        "<br><small>" + days[d.getDay()] + ", " + pad(d.getDate()) + "/" + pad(d.getMonth() + 1) + "/" + d.getFullYear() + "</small>";
    }
    tick(); setInterval(tick, 1000);
  };
})(window);
