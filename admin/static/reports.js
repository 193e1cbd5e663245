// The reports page: asks /api/v1/reports/summary for the chosen period and scope, draws the
// tables and charts (Chart.js served by the app, if installed), and links the XLSX and CSV
// downloads (plain links: the signed-in cookie goes with them) to the same period. Durations are said as durations ("12 phút"), dates dd/mm/yyyy.
(function () {
  "use strict";
  var cfg = window.MOTCUA_REPORTS;
  var api = new MotcuaApi(cfg.token);
  var $ = function (id) { return document.getElementById(id); };
  var charts = {};
  var LEVELS = [["very_satisfied", "Rất hài lòng"], ["satisfied", "Hài lòng"], ["unsatisfied", "Không hài lòng"]];

  function dur(s) {
    if (s === null || s === undefined) { return "—"; }
    s = Math.round(s);
    if (s < 60) { return s + " giây"; }
    var m = Math.floor(s / 60), sec = s % 60;
    if (m < 60) { return m + " phút" + (sec ? " " + sec + " giây" : ""); }
    var h = Math.floor(m / 60);
    return h + " giờ" + (m % 60 ? " " + (m % 60) + " phút" : "");
  }
  function num(n) { return (n === null || n === undefined) ? "—" : Number(n).toLocaleString("vi-VN"); }
  function pct(p) { return (p === null || p === undefined) ? "—" : String(p.toFixed(1)).replace(".", ",") + "%"; }
  function dmy(iso) { return iso.slice(8, 10) + "/" + iso.slice(5, 7) + "/" + iso.slice(0, 4); }
  function el(tag, cls, txt) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (txt !== undefined) { e.textContent = txt; }
    return e;
  }
  function row(cells, cls) {
    var tr = el("tr", cls);
    cells.forEach(function (c, i) { tr.appendChild(el(i === 0 ? "th" : "td", i === 0 ? "" : "n", c)); });
    if (tr.firstChild) { tr.firstChild.setAttribute("scope", "row"); }
    return tr;
  }
  function fill(tbody, rows) {
    tbody.innerHTML = "";
    rows.forEach(function (r) { tbody.appendChild(r); });
  }
  // The date boxes hold dd/mm/yyyy (the office's way, whatever the PC's language); the API takes ISO.
  function toIso(text) {
    var m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(text || "");
    return m ? m[3] + "-" + m[2].padStart(2, "0") + "-" + m[1].padStart(2, "0") : null;
  }
  function iso(d) {
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  // Quick periods, from the office's business day (given by the server).
  function quick(kind) {
    var t = cfg.today, y = +t.slice(0, 4), m = +t.slice(5, 7) - 1;
    var from, to;
    if (kind === "day") { from = to = t; }
    if (kind === "month") { from = iso(new Date(y, m, 1)); to = iso(new Date(y, m + 1, 0)); }
    if (kind === "quarter" || kind === "prev-quarter") {
      var q = Math.floor(m / 3) - (kind === "prev-quarter" ? 1 : 0);
      var start = new Date(y, q * 3, 1);
      from = iso(start); to = iso(new Date(start.getFullYear(), start.getMonth() + 3, 0));
    }
    $("rp-from").value = dmy(from); $("rp-to").value = dmy(to);
    load();
  }

  function params() {
    var p = new URLSearchParams();
    p.set("from", toIso($("rp-from").value)); p.set("to", toIso($("rp-to").value));
    if ($("rp-counter").value) { p.set("counter", $("rp-counter").value); }
    return p.toString();
  }

  function load() {
    if (!toIso($("rp-from").value) || !toIso($("rp-to").value)) {
      motcuaToast("Hãy ghi ngày bắt đầu và ngày kết thúc dạng ngày/tháng/năm, ví dụ 01/10/2026.", true); return;
    }
    var q = params();
    $("rp-xlsx").href = "/api/v1/reports/summary.xlsx?" + q;
    $("rp-csv").href = "/api/v1/reports/summary.csv?" + q;
    history.replaceState(null, "", "/admin/reports?" + q);
    $("rp-status").textContent = "Đang tải số liệu…";
    $("rp-status").classList.remove("hidden");
    api.get("/api/v1/reports/summary?" + q).then(render).catch(function (e) {
      if (e.status === 401) { location.reload(); return; }
      $("rp-status").textContent = e.message;
      $("rp-body").classList.add("hidden");
    });
  }

  function card(label, value, testid) {
    var c = el("div", "card stat");
    c.appendChild(el("div", "muted", label));
    var v = el("div", "big", value);
    if (testid) { v.dataset.testid = testid; }
    c.appendChild(v);
    return c;
  }

  function render(d) {
    $("rp-status").classList.add("hidden");
    $("rp-body").classList.remove("hidden");
    $("rp-period").textContent = "Từ ngày " + dmy(d.from) + " đến ngày " + dmy(d.to);
    var names = cfg.counters.filter(function (c) { return d.scope.counters && d.scope.counters.indexOf(c.number) >= 0; })
      .map(function (c) { return c.name; });
    $("rp-scope").textContent = d.scope.whole_office ? "Toàn bộ phận một cửa" : "Phạm vi: " + names.join(", ");
    $("rp-generated").textContent = d.generated_at ? "Lập lúc " + d.generated_at.slice(11, 16) + " ngày " + dmy(d.generated_at.slice(0, 10)) + "." : "";
    var t = d.totals, r = d.ratings;
    var cards = $("rp-cards"); cards.innerHTML = "";
    cards.appendChild(card("Số phiếu đã cấp", num(t.issued), "rp-issued"));
    cards.appendChild(card("Đã phục vụ", num(t.served), "rp-served"));
    cards.appendChild(card("Vắng mặt", num(t.no_show), "rp-no-show"));
    cards.appendChild(card("Chuyển lĩnh vực", num(t.transferred), "rp-transferred"));
    cards.appendChild(card("Đã hủy", num(t.cancelled), "rp-cancelled"));
    cards.appendChild(card("Chờ trung bình", dur(t.wait_s.mean), "rp-wait-mean"));
    cards.appendChild(card("Phục vụ trung bình", dur(t.service_s.mean), "rp-service-mean"));
    cards.appendChild(card("Tỷ lệ hài lòng", pct(r.satisfied_percent), "rp-satisfied"));

    function times(x) {
      return [dur(x.wait_s.mean), dur(x.wait_s.median), dur(x.wait_s.p90), dur(x.wait_s.max),
              dur(x.service_s.mean), dur(x.service_s.median), dur(x.service_s.p90), dur(x.service_s.max)];
    }
    function counts(x) { return [num(x.issued), num(x.served), num(x.no_show), num(x.transferred), num(x.cancelled)]; }
    fill($("rp-fields").tBodies[0], d.services.map(function (s) {
      var tr = row([s.name].concat(counts(s), times(s))); tr.dataset.field = s.code; return tr;
    }));
    var foot = $("rp-fields").tFoot; foot.innerHTML = "";
    foot.appendChild(row(["Tổng cộng"].concat(counts(t), times(t)), "total"));

    fill($("rp-ratings").tBodies[0], LEVELS.map(function (l) {
      var tr = row([l[1], num(r[l[0]]), pct(r.percent[l[0]])]); tr.dataset.level = l[0]; return tr;
    }).concat([row(["Tổng cộng", num(r.total), r.total ? "100%" : "—"], "total")]));
    fill($("rp-reasons").tBodies[0], (r.reasons || []).map(function (x) {
      return row([x.label, num(x.count), pct(x.percent)]);
    }));

    var ds = d.dossiers;
    fill($("rp-dossiers").tBodies[0], [
      ["Tiếp nhận", ds.received], ["  trong đó kỳ trước chuyển sang", ds.carried_over], ["  mới tiếp nhận", ds.received_new],
      ["Đã giải quyết", ds.finished], ["  trước hạn", ds.finished_early], ["  đúng hạn", ds.finished_on_time],
      ["  quá hạn", ds.finished_late], ["Đang giải quyết", ds.in_progress], ["  trong hạn", ds.in_progress_in_time],
      ["  quá hạn", ds.in_progress_overdue]
    ].map(function (x) { var tr = row([x[0].trim(), num(x[1])], x[0].charAt(0) === " " ? "sub" : ""); return tr; }));

    function person(x) {
      return [num(x.called), num(x.served), num(x.no_show), num(x.transferred), dur(x.service_s.mean),
              num(x.ratings.total), pct(x.ratings.satisfied_percent)];
    }
    fill($("rp-counters").tBodies[0], d.counters.map(function (c) {
      var tr = row([c.name].concat(person(c))); tr.dataset.counter = c.counter; return tr;
    }));
    fill($("rp-staff").tBodies[0], d.staff.map(function (p) { return row([p.full_name || p.username].concat(person(p))); }));
    fill($("rp-days").tBodies[0], d.days.filter(function (x) { return x.issued || x.served || x.called; }).map(function (x) {
      return row([dmy(x.date), num(x.issued), num(x.served), num(x.no_show), num(x.transferred), num(x.cancelled),
                  dur(x.wait_s.mean), dur(x.service_s.mean)]);
    }));
    heat(d.heatmap);
    draw(d);
  }

  function heat(h) {
    var table = $("rp-heat");
    table.tHead.innerHTML = ""; table.tBodies[0].innerHTML = "";
    if (!h.hours.length) { table.tBodies[0].appendChild(row(["Chưa có số liệu"])); return; }
    var hr = el("tr"); hr.appendChild(el("th", "", "Thứ"));
    h.hours.forEach(function (x) { hr.appendChild(el("th", "n", String(x).padStart(2, "0") + " giờ")); });
    hr.appendChild(el("th", "n", "Cộng"));
    table.tHead.appendChild(hr);
    h.rows.forEach(function (r) {
      var tr = el("tr"); tr.appendChild(el("th", "", r.label)); tr.firstChild.setAttribute("scope", "row");
      r.counts.forEach(function (n) {
        var td = el("td", "n cell", n ? num(n) : "");
        var a = h.max ? n / h.max : 0;
        td.style.backgroundColor = "rgba(192, 57, 43, " + (n ? (0.08 + 0.85 * a).toFixed(2) : 0) + ")";
        if (a > 0.55) { td.classList.add("dark"); }
        tr.appendChild(td);
      });
      tr.appendChild(el("td", "n", num(r.total)));
      table.tBodies[0].appendChild(tr);
    });
  }

  function draw(d) {
    if (!window.Chart) { return; }
    Chart.defaults.font.family = "'Be Vietnam Pro', 'DejaVu Sans', sans-serif";
    Chart.defaults.animation = false;
    function make(id, config) {
      if (charts[id]) { charts[id].destroy(); }
      config.options = Object.assign({ responsive: true, maintainAspectRatio: false }, config.options || {});
      charts[id] = new Chart($(id), config);
    }
    make("rp-chart-hours", { type: "bar", data: {
      labels: d.hours.map(function (h) { return String(h.hour).padStart(2, "0") + " giờ"; }),
      datasets: [{ label: "Số phiếu", data: d.hours.map(function (h) { return h.issued; }), backgroundColor: "#c0392b" },
                 { label: "Đã phục vụ", data: d.hours.map(function (h) { return h.served; }), backgroundColor: "#2c7a7b" }] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
    make("rp-chart-ratings", { type: "doughnut", data: {
      labels: LEVELS.map(function (l) { return l[1]; }),
      datasets: [{ data: LEVELS.map(function (l) { return d.ratings[l[0]]; }), backgroundColor: ["#2f855a", "#68d391", "#e53e3e"] }] },
      options: { plugins: { legend: { position: "right" } } } });
    make("rp-chart-counters", { type: "bar", data: {
      labels: d.counters.map(function (c) { return c.name; }),
      datasets: [{ label: "Đã phục vụ", data: d.counters.map(function (c) { return c.served; }), backgroundColor: "#2c7a7b" },
                 { label: "Vắng mặt", data: d.counters.map(function (c) { return c.no_show; }), backgroundColor: "#dd6b20" }] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-quick]"), function (b) {
    b.addEventListener("click", function () { quick(b.dataset.quick); });
  });
  $("rp-form").addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
  $("rp-counter").addEventListener("change", load);
  $("rp-print").addEventListener("click", function () { window.print(); });
  window.addEventListener("beforeprint", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });

  var isoDay = /^\d{4}-\d{2}-\d{2}$/;
  $("rp-from").value = dmy(isoDay.test(cfg.from) ? cfg.from : cfg.today);
  $("rp-to").value = dmy(isoDay.test(cfg.to) ? cfg.to : isoDay.test(cfg.from) ? cfg.from : cfg.today);
  if (cfg.error) { $("rp-status").textContent = cfg.error; return; }
  if (cfg.counter) { $("rp-counter").value = cfg.counter; }
  load();
})();
