// The devices page (/admin/devices): live states, test print / test call, unplug and replug of
// simulated twins, settings and connection of each device, adding and removing a device. Built
// on the helpers of admin.js (window.MotcuaAdmin); every change goes through /api/v1/admin/devices.
(function () {
  "use strict";
  var M = window.MotcuaAdmin;
  if (!M || !document.getElementById("devices-full")) { return; }
  var A = M.A, $ = M.$, el = M.el, req = M.req, say = M.say, fail = M.fail, td = M.td;
  var SCREENS = ["kiosk", "display", "rating", "agent"];
  var OPTION_FIELDS = {
    kiosk: [["idle_seconds", "Về màn hình đầu sau (giây)", "number"], ["browse_idle_seconds", "Về màn hình đầu khi tra cứu (giây)", "number"], ["lang", "Ngôn ngữ", "select", [["vi", "Tiếng Việt"], ["en", "Tiếng Anh"]]]],
    display: [["counters", "Chỉ hiện các quầy", "text"], ["fields", "Chỉ hiện các lĩnh vực", "text"], ["voice", "Đọc số", "checkbox"], ["chime", "Chuông báo", "checkbox"]],
    rating: [["timeout_s", "Thời gian hiện câu hỏi (giây)", "number"], ["accept_within_s", "Nhận đánh giá trong (giây)", "number"]],
    led: [["protocol", "Kiểu bảng", "select", [["modbus", "Bảng số (Modbus)"], ["ascii", "Bảng chữ (ASCII)"]]]],
    printer: [["profile", "Khổ giấy", "select", [["80mm", "80 mm"], ["58mm", "58 mm"]]]]
  };
  OPTION_FIELDS.rating_box = OPTION_FIELDS.rating;
  var kinds = [], counters = [];

  function kindInfo(kind) { return kinds.filter(function (k) { return k.kind === kind; })[0] || { label: kind, hint: "", needs_url: true }; }
  // "1=1, 2=2" (address=counter) <-> {"1": 1, "2": 2}
  function mapText(m) { return Object.keys(m || {}).map(function (a) { return a + "=" + m[a]; }).join(", "); }
  function parseMap(t) {
    var out = {};
    t.split(/[,;]+/).map(function (x) { return x.trim(); }).filter(Boolean).forEach(function (x) {
      var p = x.split(/\s*[=:]\s*/); out[p[0]] = Number(p[1]);
    });
    return out;
  }
  function optionValues(specs, v) {
    var opts = {};
    specs.forEach(function (s) {
      if (s.name.indexOf("opt_") !== 0) { return; }
      var k = s.name.slice(4), x = v[s.name];
      if (s.type === "checkbox") { opts[k] = x; } else if (x !== "") { opts[k] = s.type === "number" ? Number(x) : x; } else { opts[k] = null; }
    });
    return opts;
  }
  function optionSpecs(kind, current) {
    return (OPTION_FIELDS[kind] || []).map(function (o) {
      var v = (current || {})[o[0]];
      return { name: "opt_" + o[0], label: o[1], type: o[2], options: o[3] ? [["", "Mặc định"]].concat(o[3]) : undefined,
        value: Array.isArray(v) ? v.join(", ") : v };
    });
  }

  // Settings and connection of one device ------------------------------------------------------------
  function settings(d) {
    var info = kindInfo(d.kind);
    var specs = [];
    if (info.needs_url) { specs.push({ name: "url", label: "Địa chỉ kết nối", value: d.url, help: info.hint }); }
    specs = specs.concat(optionSpecs(d.kind, d.options));
    $("device-settings").classList.remove("hidden");
    $("device-settings-name").textContent = d.name + " (" + info.label + ")";
    M.buildForm($("device-form"), specs, "Lưu cài đặt", function (v) {
      var body = { options: optionValues(specs, v) };
      if (info.needs_url && v.url !== d.url) { body.url = v.url; }
      return req("PUT", A + "/devices/" + encodeURIComponent(d.name), body).then(function () {
        say("Đã lưu cài đặt " + d.name + "."); $("device-settings").classList.add("hidden"); load();
      }, fail);
    });
    $("device-settings").scrollIntoView({ block: "nearest" });
  }

  // Adding a device ----------------------------------------------------------------------------------
  function addForm() {
    var form = $("device-add-form");
    var specs = [
      { name: "kind", label: "Loại thiết bị", type: "select", options: kinds.map(function (k) { return [k.kind, k.label]; }), value: "printer" },
      { name: "name", label: "Tên thiết bị", help: "Chữ thường không dấu, số và dấu gạch ngang, ví dụ: bang-led-quay-5", attrs: { required: true, maxlength: 40, pattern: "[a-z0-9_.\\-]{1,40}", "data-testid": "device-name" } },
      { name: "url", label: "Địa chỉ kết nối", help: " ", attrs: { "data-testid": "device-url" } },
      { name: "counter", label: "Quầy", type: "select", options: [["", "Không gắn với quầy"]].concat(counters.map(function (c) { return [String(c.number), c.name || "Quầy " + c.number]; })) },
      { name: "counters", label: "Nhiều quầy trên một đường truyền", help: "Địa chỉ=số quầy, ví dụ: 1=1, 2=2, 3=5 (bỏ trống nếu chỉ gắn một quầy)" }
    ].concat(optionSpecs("led").concat(optionSpecs("printer")));
    M.buildForm(form, specs, "Thêm thiết bị", function (v) {
      var body = { kind: v.kind, name: v.name };
      if (kindInfo(v.kind).needs_url) { body.url = v.url; }
      if (v.counters) { body.counters = parseMap(v.counters); } else if (v.counter) { body.counter = Number(v.counter); }
      var opts = optionValues(specs.filter(function (s) { return OPTION_FIELDS[v.kind] && s.name.indexOf("opt_") === 0 &&
        OPTION_FIELDS[v.kind].some(function (o) { return "opt_" + o[0] === s.name; }); }), v);
      Object.keys(opts).forEach(function (k) { if (opts[k] === null) { delete opts[k]; } });
      if (Object.keys(opts).length) { body.options = opts; }
      return req("POST", A + "/devices", body).then(function (d) {
        var msg = "Đã thêm thiết bị " + d.name + " (" + kindInfo(d.kind).label + ").";
        if (d.kind === "kiosk") { msg += " Mở trang lấy số trên máy đó bằng địa chỉ: " + location.origin + "/kiosk?device=" + d.token; }
        else if (d.token) { msg += " Mã thiết bị (nhập khi cài đặt máy đó): " + d.token; }
        say(msg); form.reset(); show(); load();
      }, fail);
    });
    var perKind = { url: null, counter: ["keypad", "led", "rating_box", "rating"], counters: ["keypad", "led", "rating_box"] };
    function show() {
      var kind = form.elements.kind.value, info = kindInfo(kind);
      Array.prototype.forEach.call(form.querySelectorAll("label"), function (lab) {
        var input = lab.querySelector("input, select"), name = input ? input.name : "";
        var visible = true;
        if (name === "url") { visible = info.needs_url; lab.querySelector(".help").textContent = info.hint; }
        else if (perKind[name]) { visible = perKind[name].indexOf(kind) >= 0; }
        else if (name.indexOf("opt_") === 0) { visible = (OPTION_FIELDS[kind] || []).some(function (o) { return "opt_" + o[0] === name; }); }
        lab.classList.toggle("hidden", !visible);
      });
      if (!info.needs_url) { form.elements.url.value = ""; }
      form.elements.url.setAttribute("placeholder", kind === "printer" ? "virtual://" : kind === "camera" ? "/dev/video0" : "sim://");
    }
    form.elements.kind.addEventListener("change", show);
    show();
  }

  // The list ------------------------------------------------------------------------------------------
  function act(d, action) {
    req("POST", A + "/devices/" + encodeURIComponent(d.name) + "/test", { action: action }).then(function (r) { say(r.message); }, fail);
  }
  function remove(d) {
    var label = kindInfo(d.kind).label;
    var warn = SCREENS.indexOf(d.kind) >= 0 ? " Máy đang dùng mã của thiết bị này sẽ không mở được màn hình nữa." : " Thiết bị sẽ ngừng hoạt động ngay.";
    if (!window.confirm("Xoá thiết bị " + d.name + " (" + label + ")?" + warn)) { return; }
    req("DELETE", A + "/devices/" + encodeURIComponent(d.name)).then(function () { say("Đã xoá thiết bị " + d.name + "."); load(); }, fail);
  }
  function connection(d) {
    if (SCREENS.indexOf(d.kind) >= 0 && !d.url) { return "Dùng mã thiết bị"; }
    if (d.simulated) { return "Mô phỏng"; }
    return /^(folder|file):/.test(d.url || "") && d.kind === "camera" ? "Ảnh trong thư mục (thử nghiệm)" : d.url;
  }
  var load = M.latest(A + "/devices", function (data) {
      kinds = data.kinds || [];
      M.rows($("devices-full").tBodies[0], data.devices, function (d) {
        var buttons = [];
        if (d.kind === "printer") { buttons.push(["In thử", "test_print"]); }
        if (d.kind === "led") { buttons.push(["Gọi thử", "test_call"]); }
        if (d.simulated) { buttons.push(["Rút ra (mô phỏng)", "unplug"], ["Cắm lại (mô phỏng)", "replug"]); }
        var cell = el("td", { "class": "actions" }, buttons.map(function (b) { return el("button", { "class": "btn small secondary", type: "button", text: b[0], on: { click: function () { act(d, b[1]); } } }); }));
        if (OPTION_FIELDS[d.kind] || kindInfo(d.kind).needs_url) { cell.appendChild(el("button", { "class": "btn small secondary", type: "button", text: "Cài đặt", on: { click: function () { settings(d); } } })); }
        cell.appendChild(el("button", { "class": "btn small", type: "button", text: "Xoá", "data-testid": "device-remove-" + d.name, on: { click: function () { remove(d); } } }));
        var state = M.stateCell(d);
        const tech = [d.detail, d.cause].filter(Boolean).join(" — ");
        if (tech) { state.appendChild(el("details", {}, [el("summary", { text: "Chi tiết kỹ thuật" }), el("span", { "class": "muted", text: tech })])); }
        var where = d.counter ? "Quầy " + d.counter : (Object.keys(d.counters || {}).length ? "Quầy " + Object.keys(d.counters).map(function (a) { return d.counters[a]; }).join(", ") : "—");
        return el("tr", { "data-device": d.name }, [td(d.name), td(kindInfo(d.kind).label), td(connection(d), "muted"), td(where), state, cell]);
      }, "Văn phòng chưa khai báo thiết bị nào.");
      if (!$("device-add-form").elements.length) { addForm(); }
  });

  req("GET", A + "/counters").then(function (d) { counters = d.counters || []; load(); }, fail);
  var r = M.realtime();
  r.on("device:status", load); r.on("config:changed", load);
})();
