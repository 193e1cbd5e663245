// One kiosk screen at a time (<section data-screen="name">), each with its own idle timeout:
// after that long without a touch the kiosk goes back to the home screen by itself.
(function (global) {
  "use strict";
  function Screens(opts) {
    this.root = opts.root || document;
    this.idle = opts.idle || {};          // name -> seconds (0 or missing: stay)
    this.current = null;
    this.seconds = 0;
    this.deadline = null;
    this.handlers = { show: [], tick: [] };
    var self = this;
    ["pointerdown", "touchstart", "keydown"].forEach(function (ev) {
      document.addEventListener(ev, function () { self.touch(); }, { capture: true, passive: true });
    });
    setInterval(function () { self._tick(); }, 250);
  }
  Screens.prototype.on = function (name, fn) { this.handlers[name].push(fn); return this; };
  Screens.prototype._fire = function (name, a, b) {
    this.handlers[name].forEach(function (fn) { try { fn(a, b); } catch (e) { console.error(e); } });
  };
  // Show a screen. `idleSeconds` overrides the screen's default timeout for this visit.
  Screens.prototype.show = function (name, idleSeconds) {
    var prev = this.current;
    this.root.querySelectorAll("section.screen").forEach(function (s) {
      s.classList.toggle("hidden", s.dataset.screen !== name);
    });
    var el = this.root.querySelector("section.screen[data-screen='" + name + "']");
    if (el) { el.scrollTop = 0; }
    this.current = name;
    document.body.dataset.screen = name;
    this.seconds = idleSeconds !== undefined ? idleSeconds : (this.idle[name] || 0);
    this.touch();
    this._fire("show", name, prev);
  };
  Screens.prototype.setIdle = function (seconds) { this.seconds = seconds; this.touch(); };
  Screens.prototype.touch = function () {
    this.deadline = this.seconds > 0 ? Date.now() + this.seconds * 1000 : null;
  };
  Screens.prototype.remaining = function () {
    return this.deadline === null ? null : Math.max(0, Math.ceil((this.deadline - Date.now()) / 1000));
  };
  Screens.prototype._tick = function () {
    if (this.deadline !== null && Date.now() >= this.deadline) { this.show("home"); return; }
    this._fire("tick", this.current, this.remaining());
  };
  global.KioskScreens = Screens;
})(window);
