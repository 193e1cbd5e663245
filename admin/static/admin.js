// The administrator's screens: one small module per page (main[data-page]); everything is read
// and changed through /api/v1/admin/... with the session cookie (api.js sends the CSRF token).
(function () {
  "use strict";
  var api = new MotcuaApi();
  var main = document.getElementById("admin-main");
  var page = main ? main.dataset.page : "";
  var A = "/api/v1/admin";
  var KINDS = { printer: "Máy in phiếu", camera: "Camera quét mã", scanner: "Máy quét mã vạch", keypad: "Bàn phím gọi số",
    led: "Bảng LED", rating_box: "Hộp đánh giá", modem: "Modem SMS", kiosk: "Máy lấy số (kiosk)",
    display: "Màn hình phòng chờ", rating: "Máy tính bảng đánh giá", agent: "Máy tính có thiết bị (agent)" };
  var ROLES = { staff: "Cán bộ quầy", admin: "Quản trị" };

  function req(method, path, body) { return api.request(method, path, body); }
  // A list read again on every event: on a busy server the answers may come back out of order.
  // Only the answer to the newest question is shown; an older one arriving late never puts
  // back a state that is no longer true.
  function latest(path, show, onError) {
    var asked = 0, shown = 0;
    return function () {
      var n = ++asked;
      return req("GET", path).then(function (d) { if (n > shown) { shown = n; show(d); } }, onError || fail);
    };
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { e.textContent = attrs[k]; }
      else if (k === "on") { Object.keys(attrs.on).forEach(function (ev) { e.addEventListener(ev, attrs.on[ev]); }); }
      else if (attrs[k] !== undefined && attrs[k] !== null && attrs[k] !== false) { e.setAttribute(k, attrs[k] === true ? "" : attrs[k]); }
    });
    (kids || []).forEach(function (c) { if (c !== null && c !== undefined) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return e;
  }
  function say(text, isError) {
    var m = $("admin-msg");
    m.textContent = text; m.classList.remove("hidden"); m.classList.toggle("error", !!isError);
    m.scrollIntoView({ block: "nearest" });
  }
  function fail(e) {
    var text = e.message || "Có lỗi.";
    var probs = (e.data && e.data.problems) || [];
    if (probs.length) { text = "Chưa lưu: " + probs.map(function (p) { return (p.key ? p.key + ": " : "") + p.message; }).join("; "); }
    say(text, true);
    throw e;
  }
  function td(text, cls) { return el("td", { text: text === undefined || text === null ? "" : String(text), "class": cls }); }
  function rows(tbody, list, make, empty) {
    tbody.innerHTML = "";
    list.forEach(function (x) { tbody.appendChild(make(x)); });
    if (!list.length) { tbody.appendChild(el("tr", {}, [el("td", { colspan: "9", "class": "muted", text: empty || "Chưa có." })])); }
  }
  // A form from a list of inputs: {name, label, type, value, options:[[v,label]], help, attrs}.
  function buildForm(form, specs, submitLabel, onSubmit, extraButtons) {
    form.innerHTML = "";
    specs.forEach(function (s) {
      var input;
      if (s.type === "select") {
        input = el("select", { name: s.name }, s.options.map(function (o) { return el("option", { value: o[0], text: o[1] }); }));
        input.value = s.value === undefined || s.value === null ? "" : String(s.value);
      } else if (s.type === "checkbox") {
        input = el("input", { type: "checkbox", name: s.name });
        input.checked = !!s.value;
        form.appendChild(el("label", { "class": "check" }, [input, s.label]));
        return;
      } else if (s.type === "checks") {  // several checkboxes on one line (the working days)
        var box = el("div", { "class": "checks" });
        s.options.forEach(function (o) {
          var c = el("input", { type: "checkbox", name: s.name, value: o[0] });
          c.checked = (s.value || []).indexOf(o[0]) >= 0;
          box.appendChild(el("label", { "class": "check" }, [c, o[1]]));
        });
        form.appendChild(el("div", { "class": "wide field-label" }, [el("span", { text: s.label }), box]));
        return;
      } else if (s.type === "icons") {  // the kiosk's own icons to choose from (kiosk/static/js/icons.js)
        input = el("input", { type: "hidden", name: s.name }); input.value = s.value || "";
        var pick = el("div", { "class": "icon-pick", role: "radiogroup" });
        [""].concat(window.KioskIcons ? KioskIcons.names : []).forEach(function (n) {
          var b = el("button", { type: "button", "class": "icon-opt" + ((s.value || "") === n ? " on" : ""), title: n ? "" : "Tự chọn theo mã",
            "aria-label": n || "Tự chọn", "data-icon": n });
          if (n) { b.innerHTML = KioskIcons.svg(n); } else { b.textContent = "Tự chọn"; }
          b.addEventListener("click", function () {
            input.value = n;
            pick.querySelectorAll(".icon-opt").forEach(function (x) { x.classList.toggle("on", x === b); });
          });
          pick.appendChild(b);
        });
        form.appendChild(el("label", { "class": "wide" }, [s.label, input, pick]));
        return;
      } else if (s.type === "textarea") {
        input = el("textarea", { name: s.name, rows: s.rows || 3 }); input.value = s.value || "";
      } else {
        input = el("input", Object.assign({ name: s.name, type: s.type || "text" }, s.attrs || {}));
        input.value = s.value === undefined || s.value === null ? "" : String(s.value);
      }
      form.appendChild(el("label", {}, [s.label, input, s.help ? el("span", { "class": "help", text: s.help }) : null]));
    });
    var buttons = [el("button", { "class": "btn", type: "submit", text: submitLabel })].concat(extraButtons || []);
    form.appendChild(el("div", { "class": "row" }, buttons));
    form.onsubmit = function (ev) {
      ev.preventDefault();
      var v = {};
      specs.forEach(function (s) {
        var i = form.elements[s.name];
        if (s.type === "checks") {
          v[s.name] = Array.prototype.filter.call(form.querySelectorAll("input[name='" + s.name + "']"), function (x) { return x.checked; })
            .map(function (x) { return x.value; });
          return;
        }
        v[s.name] = s.type === "checkbox" ? i.checked : i.value.trim();
      });
      Promise.resolve(onSubmit(v)).catch(function () {});
    };
  }
  // Dates as an office writes them (02/09/2026) on screen, ISO (2026-09-02) for the API.
  function vnDate(iso) { var p = String(iso).split("-"); return p.length === 3 ? p[2] + "/" + p[1] + "/" + p[0] : iso; }
  function isoDate(t) {
    var m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(t);
    return m ? m[3] + "-" + ("0" + m[2]).slice(-2) + "-" + ("0" + m[1]).slice(-2) : t;
  }
  function numOrNull(s) { return s === "" ? null : Number(s); }
  function list(s) { return s.split(/[,;\s]+/).filter(Boolean); }
  function nums(s) { return list(s).map(Number); }
  function stateClass(st) {
    if (st === "ready") { return "state ready"; }
    if (st === "error" || st === "lost" || st === "closed") { return "state bad"; }
    return "state wait";
  }
  function stateCell(d) {
    if (!d.state) {
      return el("td", {}, [el("span", { "class": "state", text: ["kiosk", "display", "rating"].indexOf(d.kind) >= 0 ? "Màn hình trình duyệt" : "Chưa chạy" })]);
    }
    return el("td", {}, [el("span", { "class": stateClass(d.state), text: d.state_label || "Không rõ" })]);
  }
  var rt = null;
  function realtime() {
    if (!rt) { rt = new MotcuaRealtime({ token: (window.MOTCUA_ADMIN || {}).token, connEl: $("conn") }); }
    return rt;
  }

  // Overview ------------------------------------------------------------------------------------
  function home() {
    var devices = latest(A + "/devices", function (d) {
      rows($("devices").tBodies[0], d.devices, function (x) {
        return el("tr", {}, [td(x.name), td(KINDS[x.kind] || x.kind), stateCell(x)]);
      }, "Văn phòng chưa khai báo thiết bị nào.");
    });
    function queue(s) {
      rows($("queue").tBodies[0], s.services || [], function (x) { return el("tr", {}, [td(x.name), td(x.waiting, "num")]); });
      rows($("counters-now").tBodies[0], s.counters || [], function (c) {
        return el("tr", {}, [td(c.name), td(c.serving ? c.serving.number : "—"),
          td(c.paused ? "Tạm nghỉ" + (c.pause_reason ? ": " + c.pause_reason : "") : "Đang mở")]);
      });
    }
    // Messages to citizens that could not be sent (numbers masked by the server); the error
    // text is the channel's own, kept under "Chi tiết kỹ thuật".
    function failedMessages() {
      req("GET", "/api/v1/messages?status=failed&limit=20").then(function (d) {
        rows($("failed-messages").tBodies[0], d.items || [], function (m) {
          var why = el("td", {}, [el("span", { text: "Đã thử " + m.attempts + " lần không được" })]);
          if (m.error) { why.appendChild(el("details", {}, [el("summary", { text: "Chi tiết kỹ thuật" }), el("span", { "class": "muted", text: m.error })])); }
          var at = m.created_at ? m.created_at.slice(11, 16) + " " + vnDate(m.created_at.slice(0, 10)) : "";
          return el("tr", { "data-message": m.id }, [td(at), td(m.phone_masked), td(m.kind_label), td(m.channel_label), td(m.attempts, "num"), why]);
        }, "Không có tin nhắn nào gửi không được.");
      }, function () {});
    }
    var r = realtime();
    r.on("snapshot", queue); r.on("changed", queue);  // queue:changed carries the whole public state
    r.on("device:status", devices); r.on("config:changed", function () { r.resync(); devices(); });
    r.on("online", failedMessages);
    if (window.MotcuaAlerts) { MotcuaAlerts.start({ el: "motcua-alerts", api: api, rt: r }); }
    devices(); failedMessages();
    setInterval(failedMessages, 60000);
  }

  // Office, hours, settings, office file --------------------------------------------------------------
  function office() {
    function sessionsText(ss) { return (ss || []).map(function (s) { return s[0] + "-" + s[1]; }).join(", "); }
    function parseSessions(t) {
      return list(t.replace(/\s*-\s*/g, "-")).map(function (p) { return p.split("-"); });
    }
    function load() {
      req("GET", A + "/config").then(function (c) {
        var o = c.office;
        buildForm($("office-form"), [
          { name: "name", label: "Tên văn phòng", value: o.name }, { name: "short_name", label: "Tên ngắn", value: o.short_name },
          { name: "address", label: "Địa chỉ", value: o.address }, { name: "phone", label: "Điện thoại", value: o.phone },
          { name: "always_open", label: "Nhận số mọi lúc (văn phòng thử nghiệm)", type: "checkbox", value: o.always_open }
        ], "Lưu thông tin văn phòng", function (v) {
          return req("PUT", A + "/office", v).then(function () { say("Đã lưu thông tin văn phòng."); }, fail);
        });
        var h = c.hours;
        var dayOpts = [["mon", "Thứ Hai"], ["tue", "Thứ Ba"], ["wed", "Thứ Tư"], ["thu", "Thứ Năm"], ["fri", "Thứ Sáu"], ["sat", "Thứ Bảy"], ["sun", "Chủ nhật"]];
        var specs = [{ name: "days", label: "Ngày làm việc trong tuần", type: "checks", options: dayOpts, value: h.days }];
        specs = specs.concat([
          { name: "sessions", label: "Các buổi làm việc", value: sessionsText(h.sessions), help: "Ví dụ: 07:30-11:30, 13:30-17:00" },
          { name: "sat", label: "Riêng thứ Bảy (nếu khác)", value: sessionsText((h.overrides || {}).sat), help: "Để trống: như các ngày khác" },
          { name: "holidays", label: "Ngày nghỉ lễ", type: "textarea", value: (h.holidays || []).map(vnDate).join(", "), help: "Ngày/tháng/năm, cách nhau bởi dấu phẩy, ví dụ: 02/09/2026" },
          { name: "extra_days", label: "Ngày làm bù", type: "textarea", value: (h.extra_days || []).map(vnDate).join(", "), help: "Ví dụ thứ Bảy làm bù: 09/05/2026" },
          { name: "stop", label: "Ngừng cấp số trước giờ đóng cửa (phút)", type: "number", value: h.stop_issuing_before_close_min, attrs: { min: 0, max: 240 } }
        ]);
        buildForm($("hours-form"), specs, "Lưu giờ làm việc", function (v) {
          var overrides = Object.assign({}, h.overrides || {});
          if (v.sat) { overrides.sat = parseSessions(v.sat); } else { delete overrides.sat; }
          var body = { days: v.days,
            sessions: parseSessions(v.sessions), overrides: overrides, holidays: list(v.holidays).map(isoDate), extra_days: list(v.extra_days).map(isoDate),
            stop_issuing_before_close_min: Number(v.stop || 0) };
          return req("PUT", A + "/hours", body).then(function () { say("Đã lưu giờ làm việc, ngày nghỉ và ngày làm bù."); }, fail);
        });
        buildForm($("settings-form"), [
          { name: "no_show", label: "Số lần gọi lại trước khi được bỏ qua", type: "number", value: c.queue.no_show_after_recalls, attrs: { min: 0, max: 10 } },
          { name: "quota", label: "Số lượt ưu tiên liên tiếp tối đa", type: "number", value: c.queue.priority_quota, attrs: { min: 1, max: 100 } },
          { name: "priority", label: "Có ưu tiên (người cao tuổi, khuyết tật...)", type: "checkbox", value: c.queue.priority_enabled },
          { name: "template", label: "Câu gọi số", value: c.announcements.template, help: "{number}: số thứ tự, {counter}: số quầy" },
          { name: "retention", label: "Xoá họ tên, số điện thoại của hồ sơ sau (ngày)", type: "number", value: c.privacy.retention_days, attrs: { min: 0 }, help: "0: không tự xoá. Theo Nghị định 13/2023/NĐ-CP" }
        ], "Lưu cài đặt", function (v) {
          return req("PUT", A + "/settings", { queue: { no_show_after_recalls: Number(v.no_show), priority_quota: Number(v.quota), priority_enabled: v.priority },
            announcements: { template: v.template }, privacy: { retention_days: Number(v.retention) } })
            .then(function () { say("Đã lưu cài đặt."); }, fail);
        });
      }, fail);
    }
    function upload(dry) {
      var f = $("restore-form").elements.file.files[0];
      var probs = $("restore-problems"); probs.innerHTML = "";
      if (!f) { say("Hãy chọn tệp cấu hình .toml.", true); return; }
      f.text().then(function (text) {
        return req("POST", A + "/config/import" + (dry ? "?dry_run=1" : ""), { toml: text });
      }).then(function (r) {
        say((dry ? "Tệp hợp lệ: " : "Đã khôi phục cấu hình: ") + r.fields + " lĩnh vực, " + r.counters + " quầy, " + r.staff + " tài khoản, " + r.devices + " thiết bị.");
        if (!dry) { load(); }
      }, function (e) {
        ((e.data && e.data.problems) || []).forEach(function (p) { probs.appendChild(el("li", { text: (p.key || "(toàn tệp)") + ": " + p.message })); });
        say(e.message, true);
      });
    }
    $("restore-check").addEventListener("click", function () { upload(true); });
    $("restore-form").addEventListener("submit", function (ev) { ev.preventDefault(); upload(false); });
    load();
  }

  // Fields ------------------------------------------------------------------------------------------
  function fields() {
    var counters = [];
    function numbering(f) {
      var n = f.numbering;
      return n.mode === "prefix" ? "Chữ " + n.prefix + " (" + n.prefix + "001)" : "Từ số " + n.start;
    }
    function form(f) {
      var editing = !!f;
      f = f || { code: "", name: "", name_en: "", numbering: { mode: "block", start: "", prefix: "", width: 3 }, daily_cap: null, kiosk: true, icon: "", counters: [] };
      $("field-form-title").firstChild.textContent = editing ? "Sửa lĩnh vực " + f.name + " " : "Thêm lĩnh vực ";
      buildForm($("field-form"), [
        { name: "code", label: "Mã (chữ in hoa không dấu)", value: f.code, attrs: editing ? { readonly: true } : { maxlength: 32, required: true, pattern: "[A-Z][A-Z0-9_]*" } },
        { name: "name", label: "Tên lĩnh vực", value: f.name, attrs: { required: true, maxlength: 120 } },
        { name: "name_en", label: "Tên tiếng Anh", value: f.name_en },
        { name: "mode", label: "Cách đánh số", type: "select", value: f.numbering.mode, options: [["block", "Dãy số (1001, 1002...)"], ["prefix", "Chữ cái + số (A001...)"]] },
        { name: "start", label: "Số bắt đầu (dãy số)", type: "number", value: f.numbering.start, attrs: { min: 0 } },
        { name: "prefix", label: "Chữ cái (chữ cái + số)", value: f.numbering.prefix, attrs: { maxlength: 3 } },
        { name: "daily_cap", label: "Số vé tối đa mỗi ngày", type: "number", value: f.daily_cap, attrs: { min: 1 }, help: "Để trống: không giới hạn" },
        { name: "icon", label: "Biểu tượng trên kiosk", type: "icons", value: f.icon },
        { name: "kiosk", label: "Hiện trên kiosk", type: "checkbox", value: f.kiosk },
        { name: "counters", label: "Các quầy phục vụ", value: (f.counters || []).join(", "), help: "Số quầy, ví dụ: 1, 3" }
      ], editing ? "Lưu lĩnh vực" : "Thêm lĩnh vực", function (v) {
        var numberingBody = v.mode === "prefix" ? { mode: "prefix", prefix: v.prefix } : { mode: "block", start: Number(v.start || 1) };
        var body = { name: v.name, name_en: v.name_en, numbering: numberingBody, daily_cap: numOrNull(v.daily_cap), icon: v.icon,
          kiosk: v.kiosk, counters: nums(v.counters) };
        var p = editing ? req("PUT", A + "/fields/" + encodeURIComponent(f.code), body)
                        : req("POST", A + "/fields", Object.assign({ code: v.code }, body));
        return p.then(function (r) { say((editing ? "Đã lưu lĩnh vực " : "Đã thêm lĩnh vực ") + r.name + "."); load(); form(null); }, fail);
      }, editing ? [el("button", { "class": "btn secondary", type: "button", text: "Thôi", on: { click: function () { form(null); } } })] : []);
    }
    function iconCell(f) {
      var c = el("td", { "class": "icon-cell" });
      if (window.KioskIcons) { c.innerHTML = KioskIcons.forField(f); } else { c.textContent = f.icon || "Tự chọn"; }
      return c;
    }
    function remove(f, moveTo) {
      var q = moveTo ? "?move_to=" + encodeURIComponent(moveTo) : "";
      req("DELETE", A + "/fields/" + encodeURIComponent(f.code) + q).then(function () { say("Đã xoá lĩnh vực " + f.name + "."); load(); }, function (e) {
        if (e.code === "field_has_waiting" && e.data.move_to && e.data.move_to.length) {
          var sel = el("select", {}, e.data.move_to.filter(function (c) { return c !== f.code; }).map(function (c) { return el("option", { value: c, text: c }); }));
          var box = $("admin-msg"); say(e.message, true);
          box.appendChild(el("div", { "class": "row" }, ["Chuyển người đang chờ sang: ", sel,
            el("button", { "class": "btn small", type: "button", text: "Chuyển rồi xoá", on: { click: function () { remove(f, sel.value); } } })]));
          return;
        }
        say(e.message, true);
      });
    }
    function load() {
      req("GET", A + "/fields").then(function (d) {
        rows($("fields").tBodies[0], d.fields, function (f) {
          return el("tr", { "data-code": f.code }, [td(f.code), td(f.name), td(numbering(f)), td(f.daily_cap || "Không giới hạn"),
            td(f.kiosk ? "Có" : "Ẩn"), iconCell(f), td(f.counters.map(function (n) { return "Quầy " + n; }).join(", ") || "Chưa có quầy"),
            el("td", {}, [el("button", { "class": "btn small secondary", type: "button", text: "Sửa", on: { click: function () { form(f); } } }), " ",
              el("button", { "class": "btn small", type: "button", text: "Xoá", on: { click: function () {
                if (window.confirm("Xoá lĩnh vực " + f.name + "?")) { remove(f); } } } })])]);
        });
      }, fail);
    }
    form(null); load();
  }

  // Counters ----------------------------------------------------------------------------------------
  function counters() {
    var names = {};
    function fieldNames(codes) { return codes.map(function (c) { return names[c] || c; }).join(" → "); }
    function form(c) {
      var editing = !!c;
      c = c || { number: "", name: "", fields: [], strict_field_order: false };
      $("counter-form-title").firstChild.textContent = editing ? "Sửa quầy " + (c.name || c.number) + " " : "Thêm quầy ";
      buildForm($("counter-form"), [
        { name: "number", label: "Số quầy", type: "number", value: c.number, attrs: editing ? { readonly: true } : { min: 1, max: 999, required: true } },
        { name: "name", label: "Tên quầy", value: c.name, help: "Để trống: “Quầy” và số" },
        { name: "fields", label: "Lĩnh vực phục vụ, theo thứ tự", value: c.fields.join(", "), attrs: { required: true },
          help: "Mã lĩnh vực, cách nhau bởi dấu phẩy. " + Object.keys(names).map(function (k) { return k + ": " + names[k]; }).join("; ") },
        { name: "strict", label: "Gọi hết lĩnh vực đầu rồi mới đến lĩnh vực sau", type: "checkbox", value: c.strict_field_order }
      ], editing ? "Lưu quầy" : "Thêm quầy", function (v) {
        var body = { name: v.name, fields: list(v.fields), strict_field_order: v.strict };
        var p = editing ? req("PUT", A + "/counters/" + c.number, body) : req("POST", A + "/counters", Object.assign({ number: Number(v.number) }, body));
        return p.then(function (r) { say((editing ? "Đã lưu quầy " : "Đã thêm quầy ") + (r.name || r.number) + "."); load(); form(null); }, fail);
      }, editing ? [el("button", { "class": "btn secondary", type: "button", text: "Thôi", on: { click: function () { form(null); } } })] : []);
    }
    function load() {
      req("GET", A + "/counters").then(function (d) {
        rows($("counters").tBodies[0], d.counters, function (c) {
          return el("tr", { "data-number": c.number }, [td(c.number, "num"), td(c.name || "Quầy " + c.number), td(fieldNames(c.fields)),
            td(c.strict_field_order ? "Có" : "Không"),
            el("td", {}, [el("button", { "class": "btn small secondary", type: "button", text: "Sửa", on: { click: function () { form(c); } } }), " ",
              el("button", { "class": "btn small", type: "button", text: "Xoá", on: { click: function () {
                if (!window.confirm("Xoá quầy " + c.number + "?")) { return; }
                req("DELETE", A + "/counters/" + c.number).then(function () { say("Đã xoá quầy " + c.number + "."); load(); }, fail);
              } } })])]);
        });
      }, fail);
    }
    req("GET", A + "/fields").then(function (d) {
      d.fields.forEach(function (f) { names[f.code] = f.name; });
      form(null); load();
    }, fail);
  }

  // Staff ---------------------------------------------------------------------------------------------
  function staff() {
    function form(s) {
      var editing = !!s;
      s = s || { username: "", full_name: "", role: "staff", counters: [] };
      $("staff-form-title").firstChild.textContent = editing ? "Sửa tài khoản " + s.username + " " : "Tạo tài khoản ";
      var specs = [
        { name: "username", label: "Tên đăng nhập", value: s.username, attrs: editing ? { readonly: true } : { required: true, pattern: "[a-z0-9_.\\-]{2,40}" }, help: "Chữ thường không dấu, số" },
        { name: "full_name", label: "Họ tên", value: s.full_name },
        { name: "role", label: "Vai trò", type: "select", value: s.role, options: [["staff", ROLES.staff], ["admin", ROLES.admin]] },
        { name: "counters", label: "Làm việc ở quầy", value: s.counters.join(", "), help: "Số quầy, ví dụ: 1, 2" }
      ];
      if (!editing) { specs.push({ name: "password", label: "Mật khẩu", type: "password", attrs: { minlength: 8, required: true, autocomplete: "new-password" }, help: "Ít nhất 8 ký tự" }); }
      buildForm($("staff-form"), specs, editing ? "Lưu tài khoản" : "Tạo tài khoản", function (v) {
        var body = { full_name: v.full_name, role: v.role, counters: nums(v.counters) };
        var p = editing ? req("PUT", A + "/staff/" + encodeURIComponent(s.username), body)
                        : req("POST", A + "/staff", Object.assign({ username: v.username, password: v.password }, body));
        return p.then(function () { say(editing ? "Đã lưu tài khoản." : "Đã tạo tài khoản " + v.username + "."); load(); form(null); }, fail);
      }, editing ? [el("button", { "class": "btn secondary", type: "button", text: "Thôi", on: { click: function () { form(null); } } })] : []);
    }
    function load() {
      req("GET", A + "/staff").then(function (d) {
        rows($("staff").tBodies[0], d.staff, function (s) {
          return el("tr", { "data-user": s.username }, [td(s.username), td(s.full_name), td(ROLES[s.role] || s.role),
            td(s.counters.join(", ") || "—"), td(!s.active ? "Đã khoá" : (s.has_password ? "Đang dùng" : "Chưa có mật khẩu")),
            el("td", {}, [
              el("button", { "class": "btn small secondary", type: "button", text: "Sửa", on: { click: function () { form(s); } } }), " ",
              el("button", { "class": "btn small secondary", type: "button", text: "Đặt lại mật khẩu", on: { click: function () {
                var pw = window.prompt("Mật khẩu mới cho " + s.username + " (ít nhất 8 ký tự):");
                if (!pw) { return; }
                req("POST", A + "/staff/" + encodeURIComponent(s.username) + "/password", { password: pw })
                  .then(function () { say("Đã đặt lại mật khẩu của " + s.username + "."); load(); }, fail);
              } } }), " ",
              el("button", { "class": "btn small", type: "button", text: s.active ? "Khoá" : "Mở khoá", on: { click: function () {
                req("POST", A + "/staff/" + encodeURIComponent(s.username) + "/active", { active: !s.active })
                  .then(function () { say((s.active ? "Đã khoá " : "Đã mở khoá ") + s.username + "."); load(); }, fail);
              } } })])]);
        });
      }, fail);
    }
    form(null); load();
  }

  // Devices: admin-devices.js (window.MotcuaAdmin).

  // Notices -----------------------------------------------------------------------------------------------
  function notices() {
    var editing = null, form = $("notice-form");
    function when(iso) { return iso ? iso.slice(11, 16) + " " + vnDate(iso.slice(0, 10)) : ""; }
    function span(n) {
      if (!n.starts_at && !n.ends_at) { return "Đến khi gỡ xuống"; }
      return (n.starts_at ? "Từ " + when(n.starts_at) : "Từ bây giờ") + (n.ends_at ? " đến " + when(n.ends_at) : " đến khi gỡ xuống");
    }
    function edit(n) {
      editing = n;
      form.elements.text.value = n ? n.text : "";
      form.elements.priority.value = n ? n.priority : "normal";
      form.elements.starts_at.value = n && n.starts_at ? when(n.starts_at) : "";
      form.elements.ends_at.value = n && n.ends_at ? when(n.ends_at) : "";
      $("notice-form-title").firstChild.textContent = n ? "Sửa thông báo " : "Đăng thông báo ";
      $("notice-submit").textContent = n ? "Lưu thông báo" : "Đăng thông báo";
      $("notice-cancel").classList.toggle("hidden", !n);
      if (n) { form.elements.text.focus(); }
    }
    var load = latest("/api/v1/notices/all", function (d) {
        rows($("notices").tBodies[0], d.notices, function (n) {
          return el("tr", { "data-notice": n.id, "data-state": n.state, "class": n.priority === "urgent" ? "urgent" : "" }, [
            td(n.text), td(n.priority_label), td(span(n)),
            el("td", {}, [el("span", { "class": n.state === "shown" ? "state ready" : "state wait", text: n.state === "shown" ? "Đang hiển thị" : "Chờ hiển thị" })]),
            el("td", {}, [
              el("button", { "class": "btn small secondary", type: "button", text: "Sửa", on: { click: function () { edit(n); } } }), " ",
              el("button", { "class": "btn small", type: "button", text: "Gỡ xuống", on: { click: function () {
                req("DELETE", "/api/v1/notices/" + n.id).then(function () { say("Đã gỡ thông báo."); if (editing && editing.id === n.id) { edit(null); } load(); }, fail);
              } } })])]);
        }, "Chưa có thông báo nào.");
    });
    // "07:30 02/09/2026" (office time, as the list shows it) -> "2026-09-02T07:30"; "" -> null.
    function parseWhen(text, what) {
      var t = text.trim();
      if (!t) { return null; }
      var m = /^(\d{1,2})[:h](\d{2})\s+(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(t);
      if (!m) { throw new Error("Thời điểm " + what + " chưa đúng cách ghi: giờ:phút ngày/tháng/năm, ví dụ 07:30 02/09/2026."); }
      function two(x) { return ("0" + x).slice(-2); }
      return m[5] + "-" + two(m[4]) + "-" + two(m[3]) + "T" + two(m[1]) + ":" + m[2];
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = form.elements, body;
      try {
        body = { text: f.text.value.trim(), priority: f.priority.value, starts_at: parseWhen(f.starts_at.value, "bắt đầu"), ends_at: parseWhen(f.ends_at.value, "kết thúc") };
      } catch (e) { say(e.message, true); return; }
      var p = editing ? req("PUT", "/api/v1/notices/" + editing.id, body) : req("POST", "/api/v1/notices", body);
      p.then(function (n) {
        say(editing ? "Đã lưu thông báo." : (n.state === "shown" ? "Đã đăng thông báo lên TV." : "Đã lên lịch thông báo: " + span(n).toLowerCase() + "."));
        edit(null); load();
      }, fail).catch(function () {});
    });
    $("notice-cancel").addEventListener("click", function () { edit(null); });
    var r = realtime();
    r.on("notice:changed", load); r.on("online", load);
    load();
  }

  // Imports ------------------------------------------------------------------------------------------------
  // An upload with the page's CSRF token; the answer as {ok, d}.
  function upload(path, file) {
    var csrf = document.querySelector('meta[name="motcua-csrf"]');
    var fd = new FormData(); fd.append("file", file);
    return fetch(path, { method: "POST", body: fd, headers: { "X-Motcua-CSRF": csrf ? csrf.content : "", "Accept": "application/json" } })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (d) { return { ok: r.ok, d: d }; }); });
  }
  function problemList(box, errors) {
    var ul = el("ul", { "class": "problems" });
    (errors || []).slice(0, 200).forEach(function (e) { ul.appendChild(el("li", { text: (e.row ? "Dòng " + e.row + ": " : "") + e.message })); });
    box.appendChild(ul);
  }
  function imports() {
    $("procedure-import").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var box = $("procedure-report"); box.innerHTML = "";
      if (!ev.target.elements.file.files[0]) { say("Hãy chọn tệp danh mục thủ tục.", true); return; }
      upload("/api/v1/admin/procedures/import", ev.target.elements.file.files[0]).then(function (x) {
        if (!x.ok) { say(x.d.message || "Tệp chưa được nhập.", true); problemList(box, x.d.errors); return; }
        say("Đã nhập danh mục: " + x.d.imported + " thủ tục. Kiosk tra cứu theo danh mục mới ngay.");
      }, function () { say("Mất kết nối tới máy chủ. Vui lòng thử lại.", true); });
    });
    $("dossier-import").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = ev.target.elements.file.files[0];
      var box = $("import-report"); box.innerHTML = "";
      if (!f) { say("Hãy chọn tệp danh sách hồ sơ.", true); return; }
      upload("/api/v1/dossiers/import", f)
        .then(function (x) {
          if (!x.ok) {
            say(x.d.message || "Tệp chưa được nhập.", true);
            problemList(box, x.d.errors); return;
          }
          say("Đã nhập " + (x.d.imported || 0) + " hồ sơ: " + (x.d.created || 0) + " hồ sơ mới, " + (x.d.updated || 0) +
              " hồ sơ cập nhật, " + (x.d.unchanged || 0) + " hồ sơ không đổi.");
          var warn = el("ul", {});
          (x.d.warnings || []).slice(0, 200).forEach(function (w) { warn.appendChild(el("li", { text: (w.row ? "Dòng " + w.row + ": " : "") + w.message })); });
          if (warn.children.length) { box.appendChild(el("p", { text: "Lưu ý:" })); box.appendChild(warn); }
        }, function () { say("Mất kết nối tới máy chủ. Vui lòng thử lại.", true); });
    });
  }

  // Voice ----------------------------------------------------------------------------------------------------
  function voice() {
    function status() {
      req("GET", "/api/v1/voice/status").then(function (s) {
        var missing = (s.missing || []).length, invalid = (s.invalid || []).length;
        var text = "Thư viện có " + s.clips + " đoạn âm thanh";
        text += s.complete ? ", đủ cho mọi lời gọi." : (missing ? ", còn thiếu " + missing + " đoạn" : "") + (invalid ? ", " + invalid + " đoạn hỏng" : "") + (s.complete ? "" : ".");
        if (s.state === "generating" || s.state === "checking") { text += " Đang tạo các đoạn âm thanh…"; }
        $("voice-status").textContent = text;
      }, fail);
    }
    function regen(force) {
      req("POST", "/api/v1/voice/regenerate", { force: force }).then(function () { say("Đã bắt đầu tạo lại các đoạn âm thanh; việc này chạy nền, trang sẽ cập nhật."); status(); setTimeout(status, 5000); }, fail);
    }
    $("voice-regen").addEventListener("click", function () { regen(false); });
    $("voice-regen-all").addEventListener("click", function () { if (window.confirm("Tạo lại toàn bộ thư viện giọng đọc? Việc này mất vài phút.")) { regen(true); } });
    $("voice-try").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = ev.target.elements;
      req("GET", "/api/v1/announcements/preview?number=" + encodeURIComponent(f.number.value.trim()) + "&counter=" + encodeURIComponent(f.counter.value))
        .then(function (a) {
          $("voice-text").textContent = a.text || "";
          var clips = (a.clips || []).slice();
          (function next() {
            var c = clips.shift(); if (!c) { return; }
            var au = new Audio("/voice/" + c + ".wav"); au.onended = next; au.onerror = next; au.play().catch(next);
          })();
        }, fail);
    });
    status();
  }

  // Audit log ------------------------------------------------------------------------------------------------
  function audit() {
    var offset = 0;
    function pre(v) { return v === null || v === undefined ? td("—") : el("td", {}, [el("pre", { "class": "json", text: JSON.stringify(v, null, 1) })]); }
    function when(iso) { var d = new Date(iso); return motcuaClock.date(d) + " " + motcuaClock.time(d, true); }
    function load(more) {
      req("GET", A + "/audit?limit=100&offset=" + offset).then(function (d) {
        var tb = $("audit").tBodies[0];
        if (!more) { tb.innerHTML = ""; }
        d.entries.forEach(function (e) {
          tb.appendChild(el("tr", { "data-action": e.action }, [td(when(e.at)), td(e.user), td(e.summary), pre(e.before), pre(e.after)]));
        });
        if (!d.total) { tb.appendChild(el("tr", {}, [el("td", { colspan: "5", "class": "muted", text: "Chưa có thay đổi nào." })])); }
        offset += d.entries.length;
        $("audit-more").classList.toggle("hidden", offset >= d.total);
      }, fail);
    }
    $("audit-more").addEventListener("click", function () { load(true); });
    load(false);
  }

  document.querySelectorAll("input[type=file]").forEach(function (input) {
    var name = el("span", { "class": "muted", text: "Chưa chọn tệp" });
    var pick = el("button", { type: "button", "class": "btn small secondary", text: "Chọn tệp…", on: { click: function () { input.click(); } } });
    input.classList.add("visually-hidden");
    input.required = false;  // a hidden control cannot show the browser's bubble: the page says it
    input.addEventListener("change", function () { name.textContent = input.files[0] ? input.files[0].name : "Chưa chọn tệp"; });
    input.parentNode.insertBefore(el("span", { "class": "file-pick" }, [pick, " ", name]), input.nextSibling);
  });

  window.MotcuaAdmin = { A: A, KINDS: KINDS, req: req, latest: latest, $: $, el: el, say: say, fail: fail, td: td, rows: rows,
    buildForm: buildForm, stateCell: stateCell, realtime: realtime };
  var PAGES = { index: home, office: office, fields: fields, counters: counters, staff: staff,
    notices: notices, imports: imports, voice: voice, audit: audit };
  if (PAGES[page]) { PAGES[page](); }
})();
