// motcua waiting-room display. Live through Socket.IO only (MotcuaRealtime): a snapshot on
// connect, then changes; a reconnect brings a fresh snapshot and the calls missed meanwhile.
// Every call is queued and spoken in order, never over another, and written to
// #announce-log (the last LOG_MAX entries). Every list is capped so the page can run for weeks.
(function () {
  "use strict";
  var cfg = window.MOTCUA_DISPLAY || {};
  cfg.counters = cfg.counters || [];
  cfg.fields = cfg.fields || [];

  var LOG_MAX = 200;            // announcement log entries kept in the DOM
  var RECENT_MAX = 5;           // "Vừa gọi" entries
  var PENDING_MAX = 100;        // queued announcements (~10 minutes of speech)
  var SEEN_MAX = 1000;          // call keys remembered to announce each call once
  var PREVIEW_CACHE_MAX = 100;  // sentence + clip list per (number, counter)
  var HERO_FLASH_MS = 5000;     // the latest call is highlighted this long
  var GAP_MS = 400;             // silence between two announcements
  var MIN_SHOW_MS = 1500;       // without sound, each call still holds the big panel this long
  var ANNOUNCE_LIMIT_MS = announceLimitMs(); // one announcement can never take longer than this
  var FETCH_MS = 4000;

  // 30 s, or ?announce_limit_s=N (1..300) in the page's address (the tests use a short one).
  function announceLimitMs() {
    var v = Number(new URLSearchParams(window.location.search).get("announce_limit_s"));
    return v >= 1 && v <= 300 ? Math.round(v * 1000) : 30000;
  }

  var $ = function (id) { return document.getElementById(id); };
  var state = null;
  var maxSeq = -1;
  var seen = new Map();          // call key -> true (insertion order, capped)
  var pending = [];              // announcement items waiting to be spoken
  var current = null;            // the item being spoken
  var previews = new Map();      // "number|counter" -> Promise<{text, clips}>
  var heroTimer = null;
  var counterFlash = new Map();  // counter number -> timeout id

  // ---------------------------------------------------------------------------------------
  // Clock: the office's time zone, whatever the PC is set to (motcuaClock, api.js).
  function tick() {
    var now = new Date();
    $("clock-time").textContent = motcuaClock.time(now, true);
    $("clock-date").textContent = motcuaClock.date(now);
  }
  tick();
  setInterval(tick, 1000);

  // ---------------------------------------------------------------------------------------
  // Filters: a display may serve some counters or some fields only.
  function fieldsOfCounter(n) {
    var c = state && state.counters ? state.counters.filter(function (x) { return x.number === n; })[0] : null;
    return c ? c.fields || [] : [];
  }
  function counterShown(n) {
    if (cfg.counters.length) { return cfg.counters.indexOf(n) >= 0; }
    if (cfg.fields.length) {
      return fieldsOfCounter(n).some(function (f) { return cfg.fields.indexOf(f) >= 0; });
    }
    return true;
  }
  function fieldShown(code, servedBy) {
    if (cfg.fields.length) { return cfg.fields.indexOf(code) >= 0; }
    if (cfg.counters.length) {
      return (servedBy || []).some(function (n) { return cfg.counters.indexOf(n) >= 0; });
    }
    return true;
  }
  function callWanted(c) {
    var n = Number(c.counter);
    if (cfg.counters.length && cfg.counters.indexOf(n) < 0) { return false; }
    if (cfg.fields.length && c.service && cfg.fields.indexOf(c.service) < 0) { return false; }
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // Counters and waiting counts
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function renderQueue() {
    if (!state) { return; }
    var tb = $("counters").querySelector("tbody");
    var rows = document.createDocumentFragment();
    (state.counters || []).forEach(function (c) {
      if (!counterShown(c.number)) { return; }
      var tr = el("tr", "counter-row");
      tr.dataset.counter = c.number;
      var srv = c.serving;
      if (c.paused) { tr.classList.add("paused"); }
      if (srv && srv.status === "called") { tr.classList.add("called"); }
      if (counterFlash.has(c.number)) { tr.classList.add("just-called"); }
      tr.appendChild(el("td", "c-no", String(c.number)));
      // The badge says the number: "Quầy 1 - Hộ tịch" reads "Hộ tịch" beside it.
      var short = String(c.name || "").replace(/^\s*quầy\s*(số\s*)?\d+\s*[-–:·,]?\s*/i, "") || c.name;
      var name = el("td", "c-name", short);
      if (c.paused) { name.appendChild(el("span", "c-paused", "Tạm dừng")); }
      tr.appendChild(name);
      tr.appendChild(el("td", "num", srv ? srv.number : "—"));
      rows.appendChild(tr);
    });
    tb.replaceChildren(rows);

    var ul = $("waiting");
    var items = document.createDocumentFragment();
    (state.services || []).forEach(function (s) {
      if (!fieldShown(s.code, s.counters)) { return; }
      var li = el("li");
      li.dataset.service = s.code;
      li.appendChild(el("span", "w-name", s.name));
      li.appendChild(el("b", "w-count", String(s.waiting)));
      items.appendChild(li);
    });
    ul.replaceChildren(items);
    fitPanels();
  }

  // Every counter and field must be visible: shrink their type until the panel holds them.
  var fitKey = "";
  function fitPanels(force) {
    var key = $("counters").rows.length + "|" + $("waiting").children.length + "|" +
              window.innerWidth + "x" + window.innerHeight;
    if (!force && key === fitKey) { return; }
    fitKey = key;
    ["counters-panel", "waiting-panel"].forEach(function (id) {
      var p = $(id);
      var f = 1;
      p.style.setProperty("--fit", "1");
      while (p.scrollHeight > p.clientHeight + 1 && f > 0.45) {
        f -= 0.05;
        p.style.setProperty("--fit", f.toFixed(2));
      }
    });
  }
  window.addEventListener("resize", function () { fitPanels(true); });

  function flashCounter(n) {
    clearTimeout(counterFlash.get(n));
    counterFlash.set(n, setTimeout(function () {
      counterFlash.delete(n);
      var tr = document.querySelector('#counters tr[data-counter="' + n + '"]');
      if (tr) { tr.classList.remove("just-called"); }
    }, HERO_FLASH_MS));
    var tr = document.querySelector('#counters tr[data-counter="' + n + '"]');
    if (tr) { tr.classList.add("just-called"); }
  }

  // ---------------------------------------------------------------------------------------
  // The big panel and the recent calls
  function counterLabel(c) { return "Mời đến quầy số " + c.counter; }
  // Under the number: the ticket's field, the same for a live call and after a reload.
  function serviceLabel(c) {
    var s = state && state.services ? state.services.filter(function (x) { return x.code === c.service; })[0] : null;
    return s ? s.name : (c.service_name || "");
  }
  function counterPaused(n) {
    var c = state && state.counters ? state.counters.filter(function (x) { return x.number === Number(n); })[0] : null;
    return !!(c && c.paused);
  }
  // A paused counter invites nobody: its last number leaves the big panel for the latest call
  // of an open counter (or none). "Vừa gọi" keeps every call.
  function heroFromRecent() {
    if (current || pending.length) { return; }
    var hero = $("latest");
    if (hero.dataset.counter && !counterPaused(hero.dataset.counter)) { return; }
    var open = recentCalls.filter(function (c) { return !counterPaused(c.counter); })[0];
    if (open) { showHero(open, false); } else if (hero.dataset.counter) { clearHero(); }
  }
  function clearHero() {
    $("latest-number").textContent = "—";
    $("latest-counter").textContent = "\u00a0";
    $("latest-service").textContent = "\u00a0";
    $("latest-recall").classList.add("hidden");
    delete $("latest").dataset.number;
    delete $("latest").dataset.counter;
  }
  function showHero(c, flash) {
    $("latest-number").textContent = c.number;
    $("latest-counter").textContent = counterLabel(c);
    $("latest-service").textContent = serviceLabel(c) || "\u00a0";
    $("latest-recall").classList.toggle("hidden", !c.recall);
    var hero = $("latest");
    hero.dataset.number = c.number;
    hero.dataset.counter = c.counter;
    if (flash) {
      hero.classList.remove("flash");
      void hero.offsetWidth;  // restart the animation
      hero.classList.add("flash");
      clearTimeout(heroTimer);
      heroTimer = setTimeout(function () { hero.classList.remove("flash"); }, HERO_FLASH_MS);
    }
  }
  var recentCalls = [];  // the calls shown in "Vừa gọi", newest first (the big panel falls back on them)
  function addRecent(c) {
    recentCalls.unshift(c);
    recentCalls.length = Math.min(recentCalls.length, RECENT_MAX);
    var ol = $("recent-calls");
    var li = el("li");
    li.dataset.number = c.number;
    li.dataset.counter = c.counter;
    li.appendChild(el("b", "r-number", c.number));
    li.appendChild(el("span", "r-arrow", "→"));
    li.appendChild(el("span", "r-counter", "Quầy " + c.counter + (c.recall ? " · gọi lại" : "")));
    if (c.recall) { li.classList.add("recall"); }
    ol.insertBefore(li, ol.firstChild);
    while (ol.children.length > RECENT_MAX) { ol.removeChild(ol.lastChild); }
  }
  function seedRecent(calls) {
    var ol = $("recent-calls");
    ol.replaceChildren();
    recentCalls = [];
    calls.filter(callWanted).slice(0, RECENT_MAX).reverse().forEach(addRecent);
  }

  // ---------------------------------------------------------------------------------------
  // Voice
  var player = cfg.voice === false ? null : new window.MotcuaVoicePlayer({ base: "/voice/" });
  var AUDIO_TEXT = {
    blocked: {
      title: "Màn hình chưa phát được tiếng gọi số",
      body: "Bấm chuột (hoặc chạm) một lần vào màn hình này để bật tiếng. Các số vẫn được hiển thị " +
            "và ghi lại đầy đủ. Nếu lần nào mở màn hình cũng phải bấm, xin báo cán bộ quản trị."
    },
    unavailable: {
      title: "Không có thiết bị âm thanh",
      body: "Trình duyệt không mở được loa của máy. Kiểm tra loa/cáp HDMI đã cắm và được chọn làm đầu ra âm thanh, " +
            "rồi bấm chuột một lần vào màn hình hoặc tải lại trang. Các số vẫn được hiển thị đầy đủ."
    },
    stalled: {
      title: "Không nghe được tiếng gọi số",
      body: "Âm thanh không phát ra được (có thể máy không có loa hoặc loa chưa được chọn). Kiểm tra loa, " +
            "sau đó bấm chuột một lần vào màn hình. Các số vẫn được hiển thị đầy đủ."
    },
    library: {
      title: "Chưa có thư viện giọng đọc",
      body: "Máy chủ chưa có các đoạn âm thanh để đọc số (thư viện đang được tạo hoặc thiếu espeak-ng). " +
            "Chuông vẫn kêu và các số vẫn được hiển thị. Xin báo cán bộ quản trị."
    }
  };
  var audioProblem = "";
  var libraryProblem = false;
  function updateAudioNotice() {
    var reason = audioProblem || (libraryProblem ? "library" : "");
    var box = $("audio-notice");
    box.dataset.reason = reason;
    if (!reason) { box.classList.add("hidden"); return; }
    $("audio-notice-title").textContent = AUDIO_TEXT[reason].title;
    $("audio-notice-body").textContent = AUDIO_TEXT[reason].body;
    box.classList.remove("hidden");
  }
  if (player) {
    player.onState(function (s) {
      document.body.dataset.audio = s;
      audioProblem = (s === "blocked" || s === "unavailable" || s === "stalled") ? s : "";
      updateAudioNotice();
    });
  }
  function loadManifest() {
    if (!player) { return; }
    fetchJson("/voice/manifest.json").then(function (m) {
      var names = Object.keys(m || {});
      libraryProblem = names.length === 0;
      updateAudioNotice();
      player.preload(names);
    }, function () { libraryProblem = true; updateAudioNotice(); });
  }

  function fetchJson(url) {
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctrl) { ctrl.abort(); } }, FETCH_MS);
    return fetch(url, { headers: { "Accept": "application/json" }, signal: ctrl ? ctrl.signal : undefined })
      .then(function (r) {
        clearTimeout(timer);
        if (!r.ok) { var e = new Error("HTTP " + r.status); e.status = r.status; throw e; }
        return r.json();
      }, function (e) { clearTimeout(timer); e.status = 0; throw e; });
  }

  function fallbackText(c) {
    return "Xin mời công dân có số thứ tự " + c.number + " đến quầy số " + c.counter;
  }
  // The sentence and its clips: carried by the ticket:called event itself; the preview
  // endpoint is asked only when the event has none (a missed call, an older server).
  function carried(c) {
    var a = c.announcement;
    return a && typeof a.text === "string" && a.text && Array.isArray(a.clips) ? a : null;
  }
  function preview(c) {
    var a = carried(c);
    if (a) { return Promise.resolve({ text: a.text, clips: a.clips.slice() }); }
    var key = c.number + "|" + c.counter;
    var hit = previews.get(key);
    if (hit) { previews.delete(key); previews.set(key, hit); return hit; }
    var p = fetchJson("/api/v1/announcements/preview?number=" + encodeURIComponent(c.number) +
                      "&counter=" + encodeURIComponent(c.counter))
      .then(function (d) { return { text: d.text || fallbackText(c), clips: d.clips || [] }; },
            function () { previews.delete(key); return { text: fallbackText(c), clips: [], failed: true }; });
    previews.set(key, p);
    while (previews.size > PREVIEW_CACHE_MAX) { previews.delete(previews.keys().next().value); }
    return p;
  }

  // ---------------------------------------------------------------------------------------
  // The announcement queue and its log
  function callKey(c) {
    // seq is unique per queue change; without it (never from this server) the recall count helps.
    if (c.seq !== undefined && c.seq !== null) { return c.seq + ":" + c.ticket_id + ":" + (c.recall ? "r" : "c"); }
    return "?:" + c.ticket_id + ":" + (c.recall ? "r" + (c.recalls || "") : "c");
  }
  function remember(key) {
    if (seen.has(key)) { return false; }
    seen.set(key, true);
    while (seen.size > SEEN_MAX) { seen.delete(seen.keys().next().value); }
    return true;
  }
  function setItemState(item, st) {
    item.state = st;
    item.li.dataset.state = st;
  }
  function logEntry(c, missed) {
    var li = el("li");
    li.dataset.number = c.number;
    li.dataset.counter = c.counter;
    li.dataset.recall = c.recall ? "1" : "0";
    li.dataset.seq = c.seq !== undefined && c.seq !== null ? c.seq : "";
    li.dataset.ticket = c.ticket_id;
    li.dataset.text = "";
    li.dataset.state = "queued";
    li.dataset.received = String(Math.round(performance.now()));
    if (missed) { li.dataset.missed = "1"; }
    li.textContent = c.number + " → quầy " + c.counter + (c.recall ? " (gọi lại)" : "");
    var log = $("announce-log");
    log.appendChild(li);
    while (log.children.length > LOG_MAX) { log.removeChild(log.firstChild); }
    return li;
  }

  function receiveCall(c, missed) {
    if (!c || c.number === undefined || c.counter === undefined) { return; }
    // Only a contiguous seq moves the mark: after a gap, the catch-up starts before it.
    if (!missed && typeof c.seq === "number" && c.seq > maxSeq && c.seq <= maxSeq + 1) { maxSeq = c.seq; }
    if (!callWanted(c)) { return; }
    if (!remember(callKey(c))) { return; }
    var item = { call: c, li: logEntry(c, missed), state: "queued" };
    if (!missed) { addRecent(c); }  // a missed call is already in the snapshot's list
    flashCounter(Number(c.counter));
    pending.push(item);
    if (pending.length <= 3) { preview(c); }  // fetch the sentence early when it will be spoken soon
    while (pending.length > PENDING_MAX) {
      // Only a runaway (hundreds of calls in minutes) gets here: the oldest is shown, not spoken.
      var old = pending.shift();
      old.li.dataset.audio = "skipped";
      setItemState(old, "done");
    }
    pump();
  }

  function pump() {
    if (current || !pending.length) { return; }
    var item = pending.shift();
    current = item;
    if (pending.length) { preview(pending[0].call); }
    speak(item).then(finish, finish);
    function finish() {
      item.li.dataset.ended = String(Math.round(performance.now()));
      setItemState(item, "done");
      current = null;
      heroFromRecent();  // its counter may have paused meanwhile
      setTimeout(pump, GAP_MS);
    }
  }

  function delay(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function speak(item) {
    var c = item.call;
    var started = performance.now();
    setItemState(item, "speaking");
    item.li.dataset.started = String(Math.round(started));
    showHero(c, true);
    var timedOut = false;
    var work = preview(c).then(function (p) {
      item.li.dataset.text = p.text;
      var names = (cfg.chime === false ? [] : ["chime"]).concat(p.clips);
      item.li.dataset.clips = names.join(" ");
      if (!player) { return { audio: "off" }; }
      if (timedOut) { return { audio: "timeout" }; }  // too late: the next call is on the air
      return player.play(names);
    }).then(function (res) {
      if (timedOut) { return null; }
      item.li.dataset.audio = res.audio;
      if (res.duration_ms !== undefined) { item.li.dataset.durationMs = String(res.duration_ms); }
      if (res.played_ms !== undefined) { item.li.dataset.playedMs = String(res.played_ms); }
      if (res.missing && res.missing.length) { item.li.dataset.missing = res.missing.join(" "); }
      if (res.audio === "partial" || res.audio === "failed") {
        libraryProblem = true; updateAudioNotice();
      } else if (res.audio === "played") {
        libraryProblem = false; updateAudioNotice();
      }
      var left = MIN_SHOW_MS - (performance.now() - started);
      return left > 0 ? delay(left) : null;
    });
    // The limit belongs to this announcement only: it is cancelled as soon as the
    // announcement ends, so it can never cut a later one.
    var limitTimer = null;
    var limit = new Promise(function (resolve) {
      limitTimer = setTimeout(function () {
        timedOut = true;
        if (player && current === item) { player.stop(); }
        item.li.dataset.audio = "timeout";
        resolve();
      }, ANNOUNCE_LIMIT_MS);
    });
    return Promise.race([work, limit]).then(null, function (e) {
      console.error(e);
      item.li.dataset.audio = "error";
      if (!item.li.dataset.text) { item.li.dataset.text = fallbackText(c); }
    }).then(function () { clearTimeout(limitTimer); });
  }

  // ---------------------------------------------------------------------------------------
  // Dossier panels (boards.js) and notices
  var boards = window.MotcuaDossierBoards(fetchJson);

  // The notices in force now, urgent ones first (the server's order); an urgent one is marked
  // "Khẩn". At the next scheduled start or end (`refresh_in_s`) the list is asked again.
  var noticeTimer = null;
  function showNotices(list, refreshIn) {
    var items = (list || []).map(function (n) { return typeof n === "string" ? { text: n } : n; })
      .filter(function (n) { return n && n.text && String(n.text).trim(); }).slice(0, 20);
    clearTimeout(noticeTimer);
    if (typeof refreshIn === "number" && refreshIn > 0) {
      noticeTimer = setTimeout(loadNotices, Math.min(refreshIn, 86400) * 1000 + 500);
    }
    var bar = $("ticker");
    var span = $("ticker-text");
    if (!items.length) { bar.classList.add("hidden"); span.textContent = ""; span.dataset.key = ""; return; }
    var key = JSON.stringify(items.map(function (n) { return [n.priority === "urgent", n.text]; }));
    if (span.dataset.key !== key) {
      span.dataset.key = key;
      span.textContent = "";
      var length = 0;
      items.forEach(function (n, i) {
        if (i) { span.appendChild(document.createTextNode("   •   ")); }
        var part = document.createElement("span");
        if (n.priority === "urgent") {
          part.className = "urgent";
          var tag = document.createElement("b"); tag.className = "urgent-tag"; tag.textContent = "Khẩn";
          part.appendChild(tag); part.appendChild(document.createTextNode(" "));
        }
        part.appendChild(document.createTextNode(n.text));
        span.appendChild(part);
        length += n.text.length + 7;
      });
      span.style.setProperty("--ticker-s", Math.max(15, Math.round(length * 0.22)) + "s");
      span.classList.remove("run"); void span.offsetWidth; span.classList.add("run");
    }
    bar.classList.toggle("has-urgent", items.some(function (n) { return n.priority === "urgent"; }));
    bar.classList.remove("hidden");
  }
  function loadNotices() {
    fetchJson("/api/v1/notices").then(function (d) {
      showNotices(d && (d.notices || (Array.isArray(d) ? d : [])), d && d.refresh_in_s);
    }, function () {});
  }

  // ---------------------------------------------------------------------------------------
  // Realtime
  var rt = new MotcuaRealtime({ connEl: $("conn") });
  // A TV should come back quickly after a server restart: retry every 0.5 .. 1.5 s.
  if (rt.socket && rt.socket.io) {
    rt.socket.io.reconnectionDelay(500);
    rt.socket.io.reconnectionDelayMax(1500);
    rt.socket.io.randomizationFactor(0.3);
  }

  function catchUp(afterSeq) {
    fetchJson("/api/v1/announcements/missed?after_seq=" + afterSeq).then(function (d) {
      (d.calls || []).forEach(function (c) { receiveCall(c, true); });
      if (typeof d.seq === "number" && d.seq > maxSeq) { maxSeq = d.seq; }
    }, function () {});
  }

  var first = true;
  rt.on("snapshot", function (s) {
    state = s;
    renderQueue();
    // "Vừa gọi" is redrawn from the snapshot (the server's own list of today's calls).
    var recent = (s.recent_calls || []).filter(callWanted);
    seedRecent(recent);
    var open = recent.filter(function (c) { return !counterPaused(c.counter); })[0];
    if (!current && !pending.length) { if (open) { showHero(open, false); } else { clearHero(); } }
    if (first) {
      first = false;
      maxSeq = Math.max(maxSeq, typeof s.seq === "number" ? s.seq : -1);
    } else {
      // Back after a cut (or a gap): speak the calls made meanwhile.
      if (typeof s.seq === "number" && maxSeq >= 0 && s.seq > maxSeq) { catchUp(maxSeq); }
      if (typeof s.seq === "number" && s.seq > maxSeq) { maxSeq = s.seq; }
    }
    if (s.office && s.office.name) { $("office-name").textContent = s.office.name; }
    boards.load();
    loadNotices();
    loadManifestOnce();
  });
  rt.on("changed", function (s) {
    state = Object.assign(state || {}, s);
    if (typeof s.seq === "number" && s.seq > maxSeq) { maxSeq = s.seq; }
    renderQueue();
    heroFromRecent();
  });
  rt.on("ticket:called", function (c) { receiveCall(c, false); });
  rt.on("config:changed", function () { rt.resync(); });  // a new counter or field: a fresh snapshot
  rt.on("dossier:updated", function () { boards.loadSoon(); });
  rt.on("notice:changed", function (d) {
    if (d && Array.isArray(d.notices)) { showNotices(d.notices, d.refresh_in_s); } else { loadNotices(); }
  });
  var manifestLoaded = false;
  function loadManifestOnce() {
    if (manifestLoaded && !libraryProblem) { return; }
    manifestLoaded = true;
    loadManifest();
  }

  // Diagnostics (and the tests) read these; nothing here changes the screen.
  window.MotcuaDisplay = {
    rt: rt,
    player: player,
    receive: function (c) { receiveCall(c, false); },
    stats: function () {
      return {
        log: $("announce-log").children.length, pending: pending.length, speaking: current ? 1 : 0,
        seen: seen.size, previews: previews.size, clips: player ? player.cacheSize() : 0,
        recent: $("recent-calls").children.length, counterFlash: counterFlash.size,
        nodes: document.getElementsByTagName("*").length, maxSeq: maxSeq,
        audio: player ? player.state : "off"
      };
    }
  };
})();
