"""The kiosk page the agent serves on 127.0.0.1 while the server is away (localweb.py).
Kept in Python so it ships with the package; all in one page (no file from elsewhere)."""

PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lấy số thứ tự</title>
<style>
 :root { --blue:#0b4f9c; --ink:#1b2430; --soft:#5b6675; }
 * { box-sizing:border-box; }
 html,body { margin:0; height:100%; font-family:"Be Vietnam Pro","Noto Sans","Segoe UI",Arial,sans-serif;
   color:var(--ink); background:#f3f6fa; }
 body { display:flex; flex-direction:column; }
 header { background:var(--blue); color:#fff; padding:3vh 4vw; }
 header h1 { margin:0; font-size:clamp(26px,3.2vmax,54px); }
 header p { margin:.6vh 0 0; font-size:clamp(18px,1.8vmax,30px); opacity:.92; }
 header .office { font-size:clamp(18px,1.7vmax,30px); font-weight:600; margin-bottom:.8vh; opacity:.95; }
 .note { margin:2.5vh 4vw 0; padding:2vh 2vw; border-radius:14px; background:#fff4d6; border:2px solid #e7b416;
   font-size:clamp(18px,1.7vmax,30px); }
 .note small { display:block; color:var(--soft); font-size:.8em; margin-top:.4vh; }
 main { flex:1; padding:2.5vh 4vw; display:grid; gap:2vh 2vw; align-content:start;
   grid-template-columns:repeat(auto-fill,minmax(min(100%,420px),1fr)); }
 button.field { min-height:14vh; border:0; border-radius:18px; background:#fff; box-shadow:0 3px 10px #0002;
   text-align:left; padding:2vh 2vw; font:inherit; color:inherit; cursor:pointer; }
 button.field:active { background:#e4eefb; }
 button.field b { display:block; font-size:clamp(24px,2.4vmax,42px); color:var(--blue); }
 button.field span { display:block; font-size:clamp(16px,1.5vmax,26px); color:var(--soft); margin-top:.6vh; }
 button.field[disabled] { opacity:.45; }
 #done { position:fixed; inset:0; background:#fff; display:none; flex-direction:column; align-items:center;
   justify-content:center; text-align:center; padding:4vw; }
 #done .label { font-size:clamp(26px,3vmax,50px); font-weight:700; }
 #done .num { font-size:clamp(120px,16vmax,280px); font-weight:800; color:var(--blue); line-height:1.05; }
 #done .svc { font-size:clamp(24px,2.6vmax,44px); font-weight:600; }
 #done .mark { margin-top:2vh; font-size:clamp(20px,2vmax,34px); padding:1vh 2vw; border-radius:12px;
   background:#fff4d6; border:2px solid #e7b416; }
 #done p { font-size:clamp(18px,1.8vmax,30px); color:var(--soft); }
 #msg { margin:0 4vw 3vh; font-size:clamp(18px,1.7vmax,30px); color:#a11; min-height:1.4em; }
</style></head>
<body>
<header><div id="office" class="office"></div><h1>Lấy số thứ tự</h1><p>Take a queue number</p></header>
<div class="note">Máy lấy số đang tạm thời mất kết nối với hệ thống. Ông/bà vẫn lấy số bình thường; số của ông/bà
 sẽ được gọi theo đúng thứ tự.<small>The ticket machine is temporarily offline. You can still take a number; it
 will be called in turn.</small></div>
<main id="fields"></main>
<div id="msg" role="status"></div>
<div id="done" role="dialog" aria-live="assertive">
 <div class="label">SỐ THỨ TỰ CỦA ÔNG/BÀ</div><p>Your number</p>
 <div class="num" id="num"></div><div class="svc" id="svc"></div>
 <div class="mark">Cấp khi mất kết nối · Issued while offline</div>
 <p id="paper">Xin mời nhận phiếu ở khe máy in. Please take your ticket.</p>
</div>
<script>
"use strict";
const back = new URLSearchParams(location.search).get("back") || "";
const $ = (id) => document.getElementById(id);
let busy = false, shown = "";
async function status() {
  const r = await fetch("/status?back=" + encodeURIComponent(back), {cache: "no-store"});
  return r.json();
}
function draw(st) {
  if (st.office) $("office").textContent = st.office;
  const key = JSON.stringify(st.fields);
  if (key === shown) return;
  shown = key;
  const main = $("fields");
  main.textContent = "";
  for (const f of st.fields) {
    const b = document.createElement("button");
    b.className = "field";
    b.disabled = f.remaining <= 0;
    const n = document.createElement("b"); n.textContent = f.name; b.append(n);
    if (f.name_en) { const e = document.createElement("span"); e.textContent = f.name_en; b.append(e); }
    if (f.remaining <= 0) { const e = document.createElement("span");
      e.textContent = "Tạm hết số · No numbers left for now"; b.append(e); }
    b.addEventListener("click", () => take(f.code));
    main.append(b);
  }
}
async function take(code) {
  if (busy) return;
  busy = true; $("msg").textContent = "";
  try {
    const r = await fetch("/tickets", {method: "POST", headers: {"Content-Type": "application/json"},
                                       body: JSON.stringify({service: code})});
    const t = await r.json();
    if (!r.ok) { $("msg").textContent = t.message || "Chưa lấy được số. Xin thử lại."; return; }
    $("num").textContent = t.number; $("svc").textContent = t.service_name;
    $("paper").textContent = t.printed ? "Xin mời nhận phiếu ở khe máy in. Please take your ticket."
      : "Xin ông/bà ghi nhớ số này. Please remember this number.";
    $("done").style.display = "flex";
    setTimeout(() => { $("done").style.display = "none"; }, 8000);
  } catch (e) {
    $("msg").textContent = "Chưa lấy được số. Xin thử lại. / Please try again.";
  } finally { busy = false; }
}
async function reachable(server) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 3000);
  try {  // an opaque answer is enough: the server is there
    await fetch(server + "/healthz", {mode: "no-cors", cache: "no-store", signal: ctl.signal});
    return true;
  } catch (e) { return false; } finally { clearTimeout(timer); }
}
async function tick() {
  try {
    const st = await status();
    // Back only when this browser itself reaches the server again (not just the agent).
    if (st.linked && $("done").style.display !== "flex" && await reachable(st.server)) {
      location.replace(st.back); return;
    }
    draw(st);
  } catch (e) { /* the agent restarts: try again */ }
  setTimeout(tick, 2000);
}
tick();
</script>
</body></html>
"""
