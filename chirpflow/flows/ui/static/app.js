// chirpflow dashboard: polls the read-only JSON routes and renders with textContent only.
"use strict";
const POLL_MS = 5000; // 12 requests a minute: a tenth of the default per-key budget
const fmt = (n) => Number(n).toLocaleString("en-US");
const usd = (n) => "$" + Number(n).toFixed(4);
let timer = null;

function key() { return sessionStorage.getItem("chirpflow-key") || ""; }

async function api(path, body) {
  const headers = key() ? { "X-API-Key": key() } : {};
  const init = { headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    Object.assign(init, { method: "POST", body: JSON.stringify(body) });
  }
  const res = await fetch(path, init);
  if (res.status === 401) { showLogin("enter an API key (chirpflow api-key create NAME)"); throw new Error("401"); }
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

function showLogin(message) {
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = message || "";
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

// A post's web address (x.com, reddit, bsky.app, a Mastodon instance): https only.
function link(td, href) {
  let url = null;
  try { url = new URL(href); } catch (err) { return; }
  if (url.protocol !== "https:") return;
  const a = document.createElement("a");
  a.href = url.href;
  a.rel = "noopener noreferrer";
  a.target = "_blank";
  a.textContent = url.host;
  td.appendChild(a);
}

function setNum(id, value, text) {
  const el = document.getElementById(id);
  el.dataset.value = String(value);
  el.textContent = text;
}

async function overview() {
  const d = await api("/ui/api/overview");
  setNum("n-ingested", d.tweets_ingested, fmt(d.tweets_ingested));
  setNum("n-analyzed", d.analyzed, fmt(d.analyzed));
  setNum("n-stored-only", d.stored_not_analysed, fmt(d.stored_not_analysed));
  setNum("n-duplicates", d.duplicates, fmt(d.duplicates));
  setNum("n-dead", d.dead_letters, fmt(d.dead_letters));
  setNum("n-flagged", d.flagged, fmt(d.flagged));
  document.getElementById("n-flagged-share").textContent = (100 * d.flagged_share).toFixed(1) + "% of analysed";
  setNum("n-llm-cost", d.llm_cost_usd, usd(d.llm_cost_usd));
  document.getElementById("n-cost-1k").textContent = usd(d.cost_per_1k_tweets_usd) + " per 1,000 tweets";
  setNum("n-alerts-sent", d.alerts_sent, fmt(d.alerts_sent));
  setNum("n-alerts-failed", d.alerts_failed, fmt(d.alerts_failed));
  charts.bars(document.getElementById("chart-rate"), d.tweets_per_minute, "#0366d6");
  charts.stackedBars(document.getElementById("chart-sentiment"), d.sentiment_per_minute,
    { negative: "#d73a49", neutral: "#959da5", positive: "#28a745" });
  charts.hbars(document.getElementById("chart-topics"), d.top_topics, "#6f42c1");
}

function filterQuery() {
  const form = document.getElementById("filters");
  const p = new URLSearchParams();
  p.set("flagged", form.flagged.checked ? "true" : "false");
  for (const name of ["platform", "sentiment", "flag", "min_risk", "topic", "author", "q"]) {
    const v = form[name].value.trim();
    if (v) p.set(name, v);
  }
  if (cursor) p.set("after", cursor);
  return p.toString();
}

// Keyset paging: the cursor of the page shown (null: the newest), and of the next one.
let cursor = null;
let nextCursor = null;

async function flagged() {
  const d = await api("/ui/api/tweets?" + filterQuery());
  nextCursor = d.next;
  document.getElementById("older").hidden = !d.next;
  document.getElementById("newest").hidden = !cursor;
  const body = document.querySelector("#tweets tbody");
  body.replaceChildren();
  for (const r of d.rows) {
    const tr = document.createElement("tr");
    tr.className = "row";
    tr.dataset.id = r.id;
    cell(tr, r.created_at.slice(0, 16).replace("T", " "));
    cell(tr, r.author_username ? "@" + r.author_username : r.author_id);
    cell(tr, r.platform, "platform");
    cell(tr, r.text, "text");
    cell(tr, r.sentiment, r.sentiment ? "s-" + r.sentiment : "");  // null: not analysed
    cell(tr, r.risk);
    cell(tr, r.flags.join(", "));
    cell(tr, r.topics.join(", "));
    cell(tr, r.reason);
    link(cell(tr, ""), r.url);
    tr.addEventListener("click", (ev) => {
      if (ev.target.tagName === "A") return;
      const next = tr.nextElementSibling;
      if (next && next.classList.contains("detail")) { next.remove(); return; }
      const detail = document.createElement("tr");
      detail.className = "detail";
      const td = document.createElement("td");
      td.colSpan = 10;
      const pre = document.createElement("pre");
      pre.textContent = JSON.stringify(r, null, 2);
      td.appendChild(pre);
      detail.appendChild(td);
      tr.after(detail);
    });
    body.appendChild(tr);
  }
  document.getElementById("tweets-empty").hidden = d.rows.length > 0;
}

let admin = null; // asked once per key: the re-drive button is for admin keys only

async function dead() {
  if (admin === null) admin = (await api("/ui/api/me")).admin;
  document.getElementById("redrive").hidden = !admin;
  const d = await api("/ui/api/dead-letters");
  const body = document.querySelector("#dead tbody");
  body.replaceChildren();
  for (const r of d.rows) {
    const tr = document.createElement("tr");
    cell(tr, r.last_seen.slice(0, 19).replace("T", " "));
    cell(tr, r.origin);
    cell(tr, r.source);
    cell(tr, r.reason);
    cell(tr, r.attempts);
    cell(tr, r.detail, "text");
    body.appendChild(tr);
  }
}

async function jobs() {
  const d = await api("/ui/api/jobs");
  const body = document.querySelector("#jobs tbody");
  body.replaceChildren();
  for (const r of d.rows) {
    const tr = document.createElement("tr");
    cell(tr, r.created_at.slice(0, 19).replace("T", " "));
    cell(tr, "@" + (r.username || "?"));
    cell(tr, r.status + (r.error ? ": " + r.error : ""));
    const total = r.total_tweets || r.max_tweets || 0;
    const td = cell(tr, "");
    const bar = document.createElement("progress");
    bar.max = Math.max(1, total);
    bar.value = r.processed_tweets;
    td.appendChild(bar);
    td.appendChild(document.createTextNode(` ${r.processed_tweets}/${total}`));
    const rep = cell(tr, "");
    if (r.status === "completed") {
      const b = document.createElement("button");
      b.textContent = "report";
      b.addEventListener("click", async () => {
        const pre = document.getElementById("job-report");
        pre.textContent = JSON.stringify(await api(`/ui/api/jobs/${encodeURIComponent(r.id)}/report`), null, 2);
        pre.hidden = false;
      });
      rep.appendChild(b);
    }
    body.appendChild(tr);
  }
}

async function redrive() {
  const button = document.getElementById("redrive");
  const out = document.getElementById("redrive-result");
  button.disabled = true;
  out.textContent = "re-driving...";
  try {
    const r = await api("/ui/api/dead-letters/retry", {});
    out.textContent = `re-driven: ${r.tried} tried, ${r.resolved} analysed, ${r.still_failing} still failing`;
    await dead();
  } catch (err) {
    out.textContent = "re-drive failed: " + err.message;
  } finally {
    button.disabled = false;
  }
}

const TABS = { overview, flagged, dead, jobs };

function current() {
  const name = location.hash.slice(1);
  return name in TABS ? name : "overview";
}

async function refresh() {
  const name = current();
  try {
    await TABS[name]();
    document.getElementById("status").textContent = "updated " + new Date().toLocaleTimeString("en-GB");
    document.getElementById("login").hidden = true;
  } catch (err) {
    if (err.message !== "401") document.getElementById("status").textContent = String(err.message);
  }
}

function show() {
  const name = current();
  for (const t of Object.keys(TABS)) document.getElementById("tab-" + t).hidden = t !== name;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.tab === name);
  clearInterval(timer);
  refresh();
  // Overview, dead letters and jobs follow a running pipeline; a filtered list stays put.
  if (name !== "flagged") timer = setInterval(refresh, POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("login").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem("chirpflow-key", document.getElementById("key").value.trim());
    admin = null;
    show();
  });
  document.getElementById("filters").addEventListener("submit", (ev) => { ev.preventDefault(); cursor = null; refresh(); });
  document.getElementById("older").addEventListener("click", () => { cursor = nextCursor; refresh(); });
  document.getElementById("newest").addEventListener("click", () => { cursor = null; refresh(); });
  document.getElementById("redrive").addEventListener("click", redrive);
  window.addEventListener("hashchange", show);
  show();
});
