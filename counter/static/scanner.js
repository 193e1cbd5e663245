// Tells a USB keyboard-wedge barcode scanner from a person typing.
// A scanner "types" the whole code in one burst (characters well under 50 ms apart) and ends
// it with Enter; a person types slower and unevenly. feed(keydownEvent) returns the scanned
// code when an Enter closes such a burst, otherwise null.
// Rules: characters separated by more than idleMs start a new sequence; on Enter the sequence
// is a scan when it has at least minLength characters, the Enter follows the last character
// within idleMs, and at least 80 % of the gaps (Enter included) are under maxGapMs (one
// hiccup of a busy computer does not turn a scan into typing).
(function (global) {
  "use strict";
  function ScanDetector(opts) {
    opts = opts || {};
    this.maxGapMs = opts.maxGapMs || 50;
    this.idleMs = opts.idleMs || 300;
    this.minLength = opts.minLength || 6;
    this.reset();
  }
  ScanDetector.prototype.reset = function () { this.chars = []; this.times = []; };
  ScanDetector.prototype._now = function (ev) {
    return typeof ev.timeStamp === "number" && ev.timeStamp > 0 ? ev.timeStamp : performance.now();
  };
  ScanDetector.prototype.feed = function (ev) {
    var now = this._now(ev);
    var key = ev.key;
    var last = this.times.length ? this.times[this.times.length - 1] : -Infinity;
    if (key === "Enter") {
      var times = this.times.concat([now]);
      var code = this.chars.join("");
      this.reset();
      if (code.length < this.minLength || now - last > this.idleMs) { return null; }
      var fast = 0;
      for (var i = 1; i < times.length; i++) { if (times[i] - times[i - 1] <= this.maxGapMs) { fast++; } }
      return fast >= 0.8 * (times.length - 1) ? code : null;
    }
    if (typeof key !== "string" || key.length !== 1 || ev.ctrlKey || ev.altKey || ev.metaKey) {
      return null; // Shift and other modifiers come inside a scanner's burst too: ignore them
    }
    if (now - last > this.idleMs) { this.reset(); }
    this.chars.push(key);
    this.times.push(now);
    return null;
  };
  global.MotcuaScanDetector = ScanDetector;
})(window);
