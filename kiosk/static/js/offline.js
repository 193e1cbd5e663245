/* A kiosk with a device agent keeps issuing while the server is away (docs/agents.md).
 *
 * Active only when the kiosk page is opened with ?agent=PORT (the kiosk PC's browser is
 * started so). The page asks the server for /healthz every few seconds; when the server has
 * not answered twice in a row (no answer at all: the link or the server is down), it opens
 * the agent's own page on this PC, http://127.0.0.1:PORT/, which issues numbers from the
 * blocks the server kept for it and comes back here once the server answers the agent again.
 */
(function () {
  "use strict";
  const port = new URLSearchParams(location.search).get("agent") || "";
  if (!/^[0-9]{4,5}$/.test(port)) return;
  const EVERY_MS = 3000;
  let misses = 0;

  async function check() {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), EVERY_MS);
    try {
      await fetch("/healthz", {cache: "no-store", signal: ctl.signal});
      misses = 0;  // any answer: the server is there (a database fault is the server's to show)
    } catch (e) {
      misses += 1;
    } finally {
      clearTimeout(timer);
    }
    if (misses >= 2) {
      location.href = "http://127.0.0.1:" + port + "/?back=" + encodeURIComponent(location.href);
      return;
    }
    setTimeout(check, EVERY_MS);
  }
  setTimeout(check, EVERY_MS);
})();
