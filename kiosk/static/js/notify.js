// MotcuaNotify: the kiosk's on-screen number pad for "send me a message when my turn is near"
// (docs/messages.md). Self-contained: no other script, no CSS file (inline styles only).
//
//   var pad = MotcuaNotify.mount(container, { token: ticket.token, api: kioskApi,
//                                             onDone: function (r) {}, onClose: function () {} });
//
// - container: an element (emptied and filled with the pad); token: the ticket's token (in the
//   issue answer); api: the kiosk's MotcuaApi (sends the kiosk's device token); onDone(answer)
//   after the number was taken ({phone_masked, ...}); onClose() when the citizen closes it.
// - Shows nothing (and calls onClose) when the office does not send messages.
// - pad.destroy() empties the container. The number shows grouped while typed, masked once sent
//   ("09xx xxx 678"), and is never kept on the page.
(function (global) {
  "use strict";
  var RED = "#b3261e", INK = "#1b2a3a", MUTED = "#5b6b7b", LINE = "#d9e0e7", OK = "#1e7b34";

  function el(tag, style, text) {
    var e = document.createElement(tag);
    Object.keys(style || {}).forEach(function (k) { e.style[k] = style[k]; });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function two(vi, en, size, weight) {
    var w = el("div", { margin: "0 0 0.6rem" });
    var v = el("div", { fontSize: size || "inherit", fontWeight: weight || "inherit" });
    if (typeof vi === "string") { v.textContent = vi; } else { vi.forEach(function (n) { v.appendChild(n); }); }
    w.appendChild(v);
    w.appendChild(el("div", { fontSize: "0.7em", fontWeight: "400", color: MUTED }, en));
    return w;
  }
  function group(d) {  // "0912345678" -> "0912 345 678"
    return [d.slice(0, 4), d.slice(4, 7), d.slice(7)].filter(Boolean).join(" ");
  }

  function mount(container, opts) {
    opts = opts || {};
    var api = opts.api || new global.MotcuaApi();
    var digits = "", busy = false, alive = true;
    container.innerHTML = "";
    var root = el("div", { fontFamily: "inherit", color: INK, maxWidth: "40rem", margin: "0 auto", textAlign: "center" });
    root.setAttribute("data-testid", "notify-pad");
    container.appendChild(root);

    function close() { destroy(); if (opts.onClose) { opts.onClose(); } }
    function destroy() { alive = false; container.innerHTML = ""; }

    api.get("/api/v1/messages/options").then(function (o) {
      if (!alive) { return; }
      if (!o.enabled) { close(); return; }
      draw(o);
    }).catch(function () { if (alive) { close(); } });

    function draw(o) {
      root.appendChild(two("Nhận tin nhắn báo lượt", "Get a message about your turn", "2.4rem", "800"));
      var names = { sms: "tin nhắn SMS", zns: "tin Zalo" };
      var how = (o.channels || []).map(function (c) { return names[c] || c; }).join(" và ");
      root.appendChild(two("Cơ quan gửi " + how + " khi trước ông/bà còn " + o.near_turn_ahead +
        " người, khi được gọi và khi hồ sơ có kết quả.",
        "A message when " + o.near_turn_ahead + " people are ahead of you, when you are called and when your papers are ready.",
        "1.3rem"));
      var shown = el("div", { fontSize: "3rem", fontWeight: "800", letterSpacing: "0.08em", minHeight: "4.2rem",
        border: "3px solid " + LINE, borderRadius: "16px", margin: "1.2rem 0 0.6rem", padding: "0.4rem" });
      shown.setAttribute("data-testid", "notify-number");
      shown.setAttribute("aria-live", "polite");
      var msg = el("div", { color: RED, fontWeight: "700", minHeight: "1.6rem", fontSize: "1.2rem" });
      msg.setAttribute("role", "alert");
      root.appendChild(shown); root.appendChild(msg);
      var grid = el("div", { display: "grid", gridTemplateColumns: "repeat(3, 1fr)", gap: "0.8rem" });
      root.appendChild(grid);
      function refresh() {
        shown.textContent = digits ? group(digits) : "0912 345 678";
        shown.style.color = digits ? INK : "#aab4bf";
        send.disabled = digits.length !== 10 || busy;
        send.style.opacity = send.disabled ? "0.5" : "1";
      }
      function key(label, sub, fn, extra) {
        var b = el("button", Object.assign({ fontSize: "2.4rem", fontWeight: "800", padding: "0.9rem 0", borderRadius: "16px",
          border: "2px solid " + LINE, background: "#fff", color: INK, fontFamily: "inherit", cursor: "pointer" }, extra || {}));
        b.type = "button";
        b.appendChild(el("div", {}, label));
        if (sub) { b.appendChild(el("div", { fontSize: "0.9rem", fontWeight: "400", color: MUTED }, sub)); }
        b.addEventListener("click", function () { if (!busy) { msg.textContent = ""; fn(); refresh(); } });
        grid.appendChild(b);
        return b;
      }
      ["1", "2", "3", "4", "5", "6", "7", "8", "9"].forEach(function (d) {
        key(d, "", function () { if (digits.length < 10) { digits += d; } }).setAttribute("data-key", d);
      });
      key("Xóa hết", "Clear", function () { digits = ""; }, { fontSize: "1.4rem" });
      key("0", "", function () { if (digits.length < 10) { digits += "0"; } }).setAttribute("data-key", "0");
      key("⌫", "Xóa một số · Delete", function () { digits = digits.slice(0, -1); }, { fontSize: "2rem" });
      var row = el("div", { display: "grid", gridTemplateColumns: "1fr 2fr", gap: "0.8rem", marginTop: "1rem" });
      var cancel = el("button", { fontSize: "1.5rem", fontWeight: "700", padding: "1rem", borderRadius: "16px", border: "2px solid " + LINE,
        background: "#e8eef5", color: INK, fontFamily: "inherit" });
      cancel.type = "button"; cancel.appendChild(two("Bỏ qua", "Skip"));
      cancel.addEventListener("click", close);
      var send = el("button", { fontSize: "1.6rem", fontWeight: "800", padding: "1rem", borderRadius: "16px", border: "0",
        background: RED, color: "#fff", fontFamily: "inherit" });
      send.type = "button"; send.setAttribute("data-testid", "notify-send");
      send.appendChild(el("div", {}, "Đăng ký nhận tin"));
      send.appendChild(el("div", { fontSize: "0.75em", fontWeight: "400" }, "Sign up"));
      send.addEventListener("click", function () {
        if (digits.length !== 10 || busy) { return; }
        busy = true; refresh();
        api.post("/api/v1/messages/opt-in", { token: opts.token, phone: digits }).then(function (r) {
          digits = "";
          if (!alive) { return; }
          root.innerHTML = "";
          var done = el("div", { background: "#dff3e4", color: OK, borderRadius: "16px", padding: "1.4rem", fontWeight: "800" });
          done.setAttribute("role", "status"); done.setAttribute("data-testid", "notify-done");
          done.appendChild(two([document.createTextNode("Đã đăng ký nhận tin cho số "),
            el("span", { whiteSpace: "nowrap" }, r.phone_masked + ".")],
            "Messages will go to " + r.phone_masked + ".", "1.8rem"));
          root.appendChild(done);
          if (opts.onDone) { opts.onDone(r); }
        }).catch(function (e) {
          busy = false;
          if (alive) { msg.textContent = e.message; refresh(); }
        });
      });
      row.appendChild(cancel); row.appendChild(send);
      root.appendChild(row);
      refresh();
    }
    return { destroy: destroy };
  }

  global.MotcuaNotify = { mount: mount };
})(window);
