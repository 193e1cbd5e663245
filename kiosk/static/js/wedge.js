// Keyboard-wedge scanners (USB barcode readers that type like a keyboard): a burst of
// characters less than `maxGapMs` apart, at least `minChars` long, ending with Enter is a scan.
// People cannot type that fast, so nothing a person types is taken for a scan.
(function (global) {
  "use strict";
  function WedgeDetector(opts) {
    opts = opts || {};
    this.maxGapMs = opts.maxGapMs || 50;
    // Scanners send Enter right after the last character; allow a little more for it.
    this.enterGapMs = opts.enterGapMs || Math.max(100, this.maxGapMs * 2);
    this.minChars = opts.minChars || 4;
    this.maxChars = opts.maxChars || 512;
    this.buf = "";
    this.last = -Infinity;
  }
  // Feed one key (KeyboardEvent.key) pressed at `nowMs`. Returns the scanned text when this
  // key completes a scan, else null.
  WedgeDetector.prototype.feed = function (key, nowMs) {
    var gap = nowMs - this.last;
    if (key === "Enter") {
      var text = this.buf;
      var fast = gap <= this.enterGapMs;
      this.buf = ""; this.last = -Infinity;
      return fast && text.length >= this.minChars ? text : null;
    }
    if (typeof key !== "string" || key.length !== 1) { return null; } // Shift, Tab, arrows...
    if (gap > this.maxGapMs || this.buf.length >= this.maxChars) { this.buf = ""; }
    this.buf += key;
    this.last = nowMs;
    return null;
  };
  // True while a burst is under way (the key just seen may belong to a scan).
  WedgeDetector.prototype.inBurst = function (nowMs) {
    return this.buf.length > 0 && nowMs - this.last <= this.maxGapMs;
  };

  // Listen on the whole page: every scan calls onScan(text). Keys never reach the page's
  // own handlers (the kiosk has no text inputs: everything is typed on screen).
  function listen(target, opts, onScan) {
    var det = new WedgeDetector(opts);
    target.addEventListener("keydown", function (e) {
      if (e.isComposing || e.ctrlKey || e.altKey || e.metaKey) { return; }
      var now = (global.performance && performance.now) ? performance.now() : Date.now();
      var text = det.feed(e.key, now);
      if (e.key === "Enter" || e.key.length === 1) { e.preventDefault(); }
      if (text !== null) { onScan(text); }
    }, true);
    return det;
  }
  global.KioskWedge = { WedgeDetector: WedgeDetector, listen: listen };
})(window);
