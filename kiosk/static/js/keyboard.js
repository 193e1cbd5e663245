// On-screen keyboards for the kiosk: dossier codes (digits, letters, '.', '-'), lookup secrets
// (digits and letters) and procedure search (letters, the Vietnamese letters ă â đ ê ô ơ ư,
// the five tone marks, space; accents stay optional: the search folds them).
// KioskKeyboard.attach(container, {layout, maxLength, onChange(value), onEnter(value), enterLabel})
// returns {value(), set(v), clear(), setEnterLabel(text)}.
// KioskKeyboard.toneOf(text, tone) puts a tone mark ("sac", "huyen", "hoi", "nga", "nang") on
// the last word of text, on the vowel Vietnamese spelling puts it on (replacing its tone).
(function (global) {
  "use strict";
  var t = function (k) { return global.KioskI18n ? global.KioskI18n.t(k) : k; };
  var DIGITS = "1234567890".split("");
  var LAYOUTS = {
    code: [DIGITS, "QWERTYUIOP".split(""), "ASDFGHJKL".split(""), "ZXCVBNM.-".split("")],
    secret: [DIGITS, "QWERTYUIOP".split(""), "ASDFGHJKL".split(""), "ZXCVBNM".split("")],
    text: [DIGITS, "QWERTYUIOP".split(""), "ASDFGHJKL".split(""), "ZXCVBNM".split(""),
           ["Ă", "Â", "Đ", "Ê", "Ô", "Ơ", "Ư"]]
  };
  // Tone keys: [name, the mark (combining), a letter showing it].
  var TONES = [["sac", "\u0301", "á"], ["huyen", "\u0300", "à"], ["hoi", "\u0309", "ả"], ["nga", "\u0303", "ã"],
               ["nang", "\u0323", "ạ"]];
  var TONE_MARKS = /[\u0300\u0301\u0303\u0309\u0323]/g;
  var VOWELS = "aăâeêioôơuưy", HATTED = "ăâêôơư";

  // Where the tone goes in a word without tone: the hatted vowel (the last one: ươ -> ơ); else
  // one vowel: that one; two vowels: the first when the word ends with them (múa, hòa), the
  // second before a final consonant (hoàng); three: the middle one (oái). The u of "qu" and
  // the i of "gi" before another vowel are part of the consonant (quý, giá).
  function tonePosition(word) {
    var ch = Array.from(word.toLowerCase()), idx = [];
    ch.forEach(function (c, i) { if (VOWELS.indexOf(c) >= 0) { idx.push(i); } });
    if (!idx.length) { return -1; }
    var first = idx[0];
    if (idx.length > 1 && first > 0 && ((ch[first] === "u" && ch[first - 1] === "q") ||
                                        (ch[first] === "i" && ch[first - 1] === "g"))) { idx.shift(); }
    var hatted = idx.filter(function (i) { return HATTED.indexOf(ch[i]) >= 0; });
    if (hatted.length) { return hatted[hatted.length - 1]; }
    if (idx.length === 1) { return idx[0]; }
    if (idx.length === 2) { return idx[1] === ch.length - 1 ? idx[0] : idx[1]; }
    return idx[1];
  }
  function toneOf(text, tone) {
    var mark = null;
    TONES.forEach(function (t) { if (t[0] === tone) { mark = t[1]; } });
    var m = /(\S+)$/.exec(text || "");
    if (!m || mark === null) { return text; }
    var word = m[1].normalize("NFD").replace(TONE_MARKS, "").normalize("NFC");
    var at = tonePosition(word);
    if (at < 0) { return text; }
    var chars = Array.from(word);
    chars[at] = (chars[at] + mark).normalize("NFC");
    return text.slice(0, m.index) + chars.join("");
  }

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
      row.forEach(function (ch) {
        r.appendChild(key(ch, /\d/.test(ch) ? "digit" : (HATTED.indexOf(ch.toLowerCase()) >= 0 || ch === "Đ" ? "vn" : ""),
                          ch, "key-" + ch));
      });
      container.appendChild(r);
    });
    var toneKeys = [];
    if (layout === "text") {
      var tr = document.createElement("div");
      tr.className = "kb-row kb-tones";
      TONES.forEach(function (tn) {
        var b = key("", "tone", "TONE:" + tn[0], "key-tone-" + tn[0]);
        var big = document.createElement("span"); big.className = "tone-mark"; big.textContent = tn[2];
        var name = document.createElement("span"); name.className = "tone-name"; name.textContent = t("kb.tone." + tn[0]);
        b.appendChild(big); b.appendChild(name);
        toneKeys.push([name, tn[0]]);
        tr.appendChild(b);
      });
      container.appendChild(tr);
    }
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
      else if (k.indexOf("TONE:") === 0) {
        var toned = toneOf(value, k.slice(5));
        if (toned === value || toned.length > maxLength) { return; }
        value = toned;
      }
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
      toneKeys.forEach(function (p) { p[0].textContent = t("kb.tone." + p[1]); });
    }
    if (global.KioskI18n) { global.KioskI18n.onChange(relabel); }
    return {
      value: function () { return value; },
      set: function (v) { value = String(v || "").slice(0, maxLength); changed(); },
      clear: function () { value = ""; changed(); },
      setEnterLabel: function (text) { if (enterKey) { enterKey.textContent = text; } }
    };
  }
  global.KioskKeyboard = { attach: attach, LAYOUTS: LAYOUTS, toneOf: toneOf };
})(window);
