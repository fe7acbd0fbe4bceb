/**
 * The dashboard's stylesheet and client script, served by Kubeflare itself (no CDN, no
 * front-end build): plain CSS, and a few lines of browser JavaScript that refresh the
 * page's live regions and follow a pod's log.
 *
 * Edge cost of live updates: a live region is re-fetched every POLL_MS (one request to
 * the Worker, which lists what the region shows: a few database reads) only while the tab
 * is visible; a hidden tab makes no requests at all, and a followed log is closed when the
 * tab is hidden and opened again (from its tail) when it is shown.
 */
export const POLL_MS = 3000;

export const CSS = `
:root{--bg:#f6f7f9;--fg:#1d2330;--mut:#667085;--card:#fff;--line:#e3e6eb;--acc:#2563eb;--ok:#16a34a;--warn:#d97706;--bad:#dc2626;--off:#9ca3af}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
a{color:var(--acc);text-decoration:none}a:hover{text-decoration:underline}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.25rem 1rem;padding:.6rem 1rem;background:#111827;color:#fff}
header a{color:#e5e7eb}header a.on{color:#fff;font-weight:600;border-bottom:2px solid #60a5fa}
header .brand{font-weight:700;margin-right:.5rem;color:#fff}
header nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem;flex:1}
header form{margin:0}
header .badge{color:#111827}
main{padding:1rem;max-width:1200px;margin:0 auto}
h1{font-size:1.3rem;margin:.2rem 0 1rem}h2{font-size:1.05rem;margin:1.2rem 0 .5rem}
.flash{padding:.6rem .8rem;border-radius:6px;margin-bottom:1rem;white-space:pre-wrap}
.flash.ok{background:#dcfce7;color:#14532d}.flash.error{background:#fee2e2;color:#7f1d1d}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:.6rem;margin-bottom:1rem}
.stat{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.6rem .8rem}
.stat b{display:block;font-size:1.6rem}.stat span{color:var(--mut);font-size:.85rem}
.stat.bad b{color:var(--bad)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:.8rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.8rem}
.card h3{margin:0 0 .3rem;font-size:1rem;display:flex;justify-content:space-between;gap:.5rem;word-break:break-all}
.badge{font-size:.75rem;padding:.1rem .45rem;border-radius:999px;background:#e5e7eb;white-space:nowrap;font-weight:500}
.badge.ok{background:#dcfce7;color:#166534}.badge.bad{background:#fee2e2;color:#991b1b}.badge.warn{background:#fef3c7;color:#92400e}
.meta{color:var(--mut);font-size:.8rem;margin:.2rem 0 .5rem}
.bar{display:grid;grid-template-columns:4rem 1fr auto;align-items:center;gap:.4rem;font-size:.8rem;margin:.25rem 0}
.bar .track{height:8px;background:#eef0f3;border-radius:4px;overflow:hidden}.bar .fill{height:100%;background:var(--acc)}
.bar .fill.hi{background:var(--warn)}.bar.use .fill{background:#7c3aed}
.chips{display:flex;flex-wrap:wrap;gap:.3rem;margin-top:.5rem}
.chip{font-size:.72rem;padding:.1rem .45rem;border-radius:4px;color:#fff;background:var(--off);max-width:100%;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.chip.running{background:var(--ok)}.chip.pending{background:var(--warn)}.chip.crash{background:var(--bad)}.chip.terminating{background:#6b7280;text-decoration:line-through}
.tablewrap{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);white-space:nowrap;vertical-align:middle}
th{background:#f9fafb;font-weight:600;color:#374151}
tr.warn td{background:#fff7ed}
.actions{display:flex;flex-wrap:wrap;gap:.3rem;align-items:center}
.actions form{display:flex;gap:.25rem;margin:0}
button,.btn{font:inherit;font-size:.85rem;padding:.3rem .7rem;border-radius:6px;border:1px solid #cbd5e1;background:#fff;color:var(--fg);cursor:pointer}
button.primary{background:var(--acc);border-color:var(--acc);color:#fff}button.danger{color:var(--bad);border-color:#fca5a5}
input,select,textarea{font:inherit;padding:.35rem .5rem;border:1px solid #cbd5e1;border-radius:6px;background:#fff;max-width:100%}
input.num{width:4.5rem}
textarea{width:100%;min-height:18rem;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem}
.filters{display:flex;flex-wrap:wrap;gap:.5rem;margin-bottom:.8rem;align-items:center}
.login{max-width:420px;margin:10vh auto;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1.2rem}
.login input{width:100%;margin:.4rem 0 .8rem}
pre.log{background:#0b1020;color:#d1d5db;padding:.7rem;border-radius:8px;max-height:60vh;overflow:auto;font-size:.8rem;white-space:pre-wrap;word-break:break-all;min-height:6rem}
.errors{list-style:none;padding:0}.errors li{padding:.5rem .7rem;border-radius:6px;margin:.3rem 0;background:#fee2e2;color:#7f1d1d;white-space:pre-wrap}
.errors li.ok{background:#dcfce7;color:#14532d}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;font-size:.88rem}dl.kv dt{color:var(--mut)}dl.kv dd{margin:0;overflow-wrap:anywhere}
.muted{color:var(--mut)}
@media (max-width:600px){main{padding:.6rem}header nav{order:3;flex-basis:100%;flex-wrap:nowrap;overflow-x:auto;padding-bottom:.2rem}header{padding:.5rem .6rem}th,td{padding:.35rem .4rem}.hide-sm{display:none}}
`;

export const JS = `(()=>{
const $=(s)=>document.querySelectorAll(s);
document.addEventListener("submit",(e)=>{const m=e.target.dataset.confirm;if(m&&!confirm(m))e.preventDefault();});
const live=[...$("[data-live]")];let timer;
const refresh=async()=>{if(document.hidden)return;for(const el of live){const a=document.activeElement;if(a&&el.contains(a)&&/INPUT|SELECT|TEXTAREA/.test(a.tagName))continue;
try{const r=await fetch(el.dataset.live,{headers:{"X-Live":"1"},credentials:"same-origin"});if(r.status===401){location.href="/ui/login";return;}if(r.ok)el.innerHTML=await r.text();}catch{}}};
const schedule=()=>{clearInterval(timer);if(!document.hidden&&live.length)timer=setInterval(refresh,${POLL_MS});};
document.addEventListener("visibilitychange",()=>{if(!document.hidden)refresh();schedule();});schedule();
const log=document.querySelector("[data-follow]");let ctrl;
const follow=async()=>{if(!log||document.hidden)return;ctrl?.abort();ctrl=new AbortController();log.textContent="";
try{const r=await fetch(log.dataset.follow,{signal:ctrl.signal,credentials:"same-origin"});const rd=r.body.pipeThrough(new TextDecoderStream()).getReader();
for(;;){const{value,done}=await rd.read();if(done)break;const end=log.scrollTop+log.clientHeight>=log.scrollHeight-8;log.append(value);
if(log.textContent.length>400000)log.textContent=log.textContent.slice(-200000);if(end)log.scrollTop=log.scrollHeight;}}catch{}};
for(const f of $("input[data-into]"))f.addEventListener("change",async()=>{const t=document.getElementById(f.dataset.into);if(f.files[0]&&t)t.value=await f.files[0].text();});
if(log){follow();document.addEventListener("visibilitychange",()=>{if(document.hidden)ctrl?.abort();else follow();});}
})();
`;
