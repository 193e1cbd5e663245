// On-screen keyboards for the kiosk: dossier codes (digits, letters, '.', '-'), lookup secrets
// (digits and letters) and procedure search (letters typed without accents, space).
// KioskKeyboard.attach(container, {layout, maxLength, onChange(value), onEnter(value), enterLabel})
// returns {value(), set(v), clear(), setEnterLabel(text)}.
(function (global) {
  "use strict";
  var t = function (k) { return global.KioskI18n ? global.KioskI18n.t(k) : k; };
  var DIGITS = "1234567890".split("");
  var LAYOUTS = {
    code: [DIGITS, "QWERTYUIOP".split(""), "ASDFGHJKL".split(""), "ZXCVBNM.-".split("")],
    secret: [DIGITS, "QWERTYUIOP".split(""), "ASDFGHJKL".split(""), "ZXCVBNM".split("")],
    text: [DIGITS, "QWERTYUIOP".split(""), "ASDFGHJKL".split(""), "ZXCVBNM".split("")]
  };

  function key(label, cls, value, testid) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "key" + (cls ? " " + cls : "");
    b.dataset.key = value;
    if (testid) { b.dataset.testid = testid; }
    b.textContent = label;
    return b;
  }

  function attach(container, opts) {
    opts = opts || {};
    var layout = opts.layout || "code";
    var maxLength = opts.maxLength || 64;
    var value = "";
    container.innerHTML = "";
    container.classList.add("keyboard", "kb-" + layout);
    LAYOUTS[layout].forEach(function (row) {
      var r = document.createElement("div");
      r.className = "kb-row";
      row.forEach(function (ch) { r.appendChild(key(ch, /\d/.test(ch) ? "digit" : "", ch, "key-" + ch)); });
      container.appendChild(r);
    });
    var last = document.createElement("div");
    last.className = "kb-row kb-actions";
    var clearKey = key(t("kb.clear"), "action clear", "CLEAR", "key-clear");
    var backKey = key("⌫ " + t("kb.back"), "action back", "BACK", "key-back");
    last.appendChild(clearKey);
    if (layout === "text") { last.appendChild(key(t("kb.space"), "action space", " ", "key-space")); }
    last.appendChild(backKey);
    var enterKey = null;
    if (opts.onEnter) {
      enterKey = key(opts.enterLabel || "OK", "action enter", "ENTER", "key-enter");
      last.appendChild(enterKey);
    }
    container.appendChild(last);

    function changed() { if (opts.onChange) { opts.onChange(value); } }
    container.addEventListener("click", function (e) {
      var b = e.target.closest(".key");
      if (!b || !container.contains(b)) { return; }
      var k = b.dataset.key;
      if (k === "CLEAR") { value = ""; }
      else if (k === "BACK") { value = value.slice(0, -1); }
      else if (k === "ENTER") { opts.onEnter(value); return; }
      else if (value.length < maxLength) {
        if (k === " " && (value === "" || value.slice(-1) === " ")) { return; }
        value += layout === "text" ? k.toLowerCase() : k;
      }
      changed();
    });
    function relabel() {
      clearKey.textContent = t("kb.clear");
      backKey.textContent = "⌫ " + t("kb.back");
      var sp = container.querySelector(".key.space");
      if (sp) { sp.textContent = t("kb.space"); }
    }
    if (global.KioskI18n) { global.KioskI18n.onChange(relabel); }
    return {
      value: function () { return value; },
      set: function (v) { value = String(v || "").slice(0, maxLength); changed(); },
      clear: function () { value = ""; changed(); },
      setEnterLabel: function (text) { if (enterKey) { enterKey.textContent = text; } }
    };
  }
  global.KioskKeyboard = { attach: attach, LAYOUTS: LAYOUTS };
})(window);
