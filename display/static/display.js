(function () {
  "use strict";
  var cfg = window.MOTCUA_DISPLAY || {};
  var rt = new MotcuaRealtime({ connEl: document.getElementById("conn") });
  var $ = function (id) { return document.getElementById(id); };
  var state = null, queue = [], speaking = false, logMax = 200;
  motcuaClock($("clock"));

  function wanted(counter, service) {
    if (cfg.counters && cfg.counters.length && cfg.counters.indexOf(counter) < 0) { return false; }
    if (cfg.fields && cfg.fields.length && service && cfg.fields.indexOf(service) < 0) { return false; }
    return true;
  }
  function render() {
    if (!state) { return; }
    var tb = $("counters").querySelector("tbody"); tb.innerHTML = "";
    state.counters.forEach(function (c) {
      if (!wanted(c.number, null)) { return; }
      var tr = document.createElement("tr");
      tr.innerHTML = "<td class='name'></td><td class='num'></td>";
      tr.querySelector(".name").textContent = c.name + (c.paused ? " (tạm dừng)" : "");
      tr.querySelector(".num").textContent = c.serving ? c.serving.number : "—";
      tr.dataset.counter = c.number;
      tb.appendChild(tr);
    });
    var ul = $("waiting"); ul.innerHTML = "";
    state.services.forEach(function (s) {
      if (!wanted(null, s.code) && cfg.fields.length) { return; }
      var li = document.createElement("li");
      li.innerHTML = "<span></span><b></b>";
      li.querySelector("span").textContent = s.name; li.querySelector("b").textContent = s.waiting;
      ul.appendChild(li);
    });
  }
  rt.on("snapshot", function (s) {
    state = s; render();
    if (s.recent_calls && s.recent_calls.length && $("latest-number").textContent === "—") {
      showCall(s.recent_calls[0], false);
    }
  });
  rt.on("changed", function (s) { state = Object.assign(state || {}, s); render(); });

  function showCall(c, flash) {
    $("latest-number").textContent = c.number;
    $("latest-counter").textContent = "Mời đến quầy số " + c.counter;
    if (flash) {
      var el = $("latest"); el.classList.remove("flash"); void el.offsetWidth; el.classList.add("flash");
    }
  }
  // Announcements: one queue per screen, in order, never over each other, none dropped.
  rt.on("ticket:called", function (c) {
    if (!wanted(c.counter, c.service)) { return; }
    queue.push(c); next();
  });
  function next() {
    if (speaking || !queue.length) { return; }
    speaking = true;
    var c = queue.shift();
    showCall(c, true);
    var li = document.createElement("li");
    li.textContent = c.number + "@" + c.counter + (c.recall ? " (gọi lại)" : "");
    li.dataset.number = c.number; li.dataset.counter = c.counter; li.dataset.recall = c.recall ? "1" : "0";
    var log = $("announce-log"); log.appendChild(li);
    while (log.children.length > logMax) { log.removeChild(log.firstChild); }
    (window.MotcuaVoice ? window.MotcuaVoice.speak(c) : Promise.resolve()).then(done, done);
    function done() { setTimeout(function () { speaking = false; next(); }, 300); }
  }
})();
