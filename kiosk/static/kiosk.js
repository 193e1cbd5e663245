(function () {
  "use strict";
  var cfg = window.MOTCUA_KIOSK || {};
  var params = new URLSearchParams(location.search);
  if (params.get("device")) { localStorage.setItem("motcua.kiosk.token", params.get("device")); }
  var token = localStorage.getItem("motcua.kiosk.token") || cfg.deviceToken || null;
  var api = new MotcuaApi(token);
  var rt = new MotcuaRealtime({ token: token, connEl: document.getElementById("conn") });
  var servicesEl = document.getElementById("services");
  var closedEl = document.getElementById("closed");
  var busy = false, idleTimer = null;
  motcuaClock(document.getElementById("clock"));
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });

  function render(state) {
    servicesEl.innerHTML = "";
    (state.services || []).forEach(function (s) {
      if (s.kiosk === false) { return; }
      var b = document.createElement("button");
      b.className = "svc"; b.dataset.service = s.code;
      b.innerHTML = "<span class='name'></span><span class='en'></span><span class='waiting'></span>";
      b.querySelector(".name").textContent = s.name;
      b.querySelector(".en").textContent = s.name_en || "";
      b.querySelector(".waiting").textContent = "Đang chờ: " + s.waiting + " người";
      b.addEventListener("click", function () { take(s.code); });
      servicesEl.appendChild(b);
    });
    if (state.open && state.open.open === false) {
      closedEl.textContent = state.open.message; closedEl.classList.remove("hidden");
    } else if (state.open) { closedEl.classList.add("hidden"); }
  }
  function updateCounts(state) {
    (state.services || []).forEach(function (s) {
      var b = servicesEl.querySelector("[data-service='" + s.code + "'] .waiting");
      if (b) { b.textContent = "Đang chờ: " + s.waiting + " người"; }
    });
  }
  rt.on("snapshot", render);
  rt.on("changed", updateCounts);

  function fmtWait(s) {
    var m = Math.round(s / 60);
    return m < 1 ? "dưới 1 phút" : "khoảng " + m + " phút";
  }
  function take(code) {
    if (busy) { return; }
    busy = true;
    api.post("/api/v1/tickets", { service: code }, { "Idempotency-Key": MotcuaApi.newKey() }).then(function (t) {
      document.getElementById("r-number").textContent = t.number;
      document.getElementById("r-service").textContent = t.service_name;
      document.getElementById("r-counters").textContent = t.counters && t.counters.length ?
        "Mời đến quầy số " + t.counters.join(", ") + " khi được gọi" : "";
      document.getElementById("r-ahead").textContent = "Trước ông/bà: " + t.ahead + " người · Chờ " + fmtWait(t.estimated_wait_s);
      var pr = document.getElementById("r-print");
      pr.className = "r-line print-state";
      pr.textContent = t.print_job && t.print_job.state === "failed" ? t.print_job.message : "";
      if (t.print_job && t.print_job.state === "failed") { pr.classList.add("error"); }
      document.getElementById("r-qr").src = "/t/" + encodeURIComponent(t.token) + "/qr.svg";
      document.getElementById("result").classList.remove("hidden");
      clearTimeout(idleTimer);
      idleTimer = setTimeout(home, (cfg.idleSeconds || 20) * 1000);
    }).catch(function (e) { motcuaToast(e.message, true, 6000); }).then(function () { busy = false; });
  }
  function home() { clearTimeout(idleTimer); document.getElementById("result").classList.add("hidden"); }
  document.getElementById("r-done").addEventListener("click", home);
  document.getElementById("result").addEventListener("click", function (e) { if (e.target.id === "result") { home(); } });
})();
