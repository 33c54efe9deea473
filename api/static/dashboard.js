// Smainer dashboard: keeps the server-rendered page live from /api/v1 and its event stream.
// No framework and no external asset, so the page works offline and stays small.
"use strict";

const API = "/api/v1";
const ROWS = Number(document.body.dataset.taskRows || 25);
const NODE_ROWS = Number(document.body.dataset.nodeRows || 50);
const DECIMALS = BigInt(document.body.dataset.decimals || 18);
const EVENT_NAMES = JSON.parse(document.getElementById("event-names").textContent);
const $ = (id) => document.getElementById(id);
let chainTime = null;
let shownTasks = new Set([...document.querySelectorAll("#tasks tr[data-task]")].map((r) => r.dataset.task));
let openTask = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function tokens(baseUnits) {
  if (baseUnits === null || baseUnits === undefined) return "-";
  const v = BigInt(baseUnits), unit = 10n ** DECIMALS;
  const whole = v / unit, frac = (v % unit) * 10000n / unit;
  let text = whole.toLocaleString("en-US");
  if (frac > 0n) text += "." + frac.toString().padStart(4, "0").replace(/0+$/, "");
  else if (v > 0n && whole === 0n) return "<0.0001";
  return text;
}

function short(hex) {
  if (!hex) return "-";
  return hex.length <= 14 ? hex : `${hex.slice(0, 8)}…${hex.slice(-4)}`;
}

function age(then) {
  if (then === null || then === undefined || chainTime === null) return "-";
  const d = Math.max(chainTime - then, 0);
  if (d < 60) return `${d}s`;
  if (d < 3600) return `${Math.floor(d / 60)}m`;
  if (d < 86400) return `${Math.floor(d / 3600)}h ${Math.floor((d % 3600) / 60)}m`;
  return `${Math.floor(d / 86400)}d ${Math.floor((d % 86400) / 3600)}h`;
}

function badge(status) { return el("span", { class: `st st-${status}` }, status); }

async function getJSON(path) {
  const answer = await fetch(API + path, { headers: { accept: "application/json" } });
  if (!answer.ok) throw new Error(`${path}: ${answer.status}`);
  return answer.json();
}

function renderStats(s) {
  chainTime = s.chain_time;
  $("indexed-block").textContent = s.indexed_block ?? "-";
  $("stat-total").textContent = s.tasks_total;
  $("stat-statuses").replaceChildren(...Object.entries(s.tasks_by_status).flatMap(
    ([name, n]) => [el("span", { class: `st st-${name}` }, `${name} ${n}`), " "]));
  $("stat-active").textContent = s.nodes_active;
  $("stat-nodes").textContent = s.nodes_total;
  $("stat-escrowed").textContent = tokens(s.escrowed);
  $("stat-settled").textContent = tokens(s.settled);
  $("stat-providers").textContent = tokens(s.paid_to_providers);
  $("stat-gas").textContent = tokens(s.paid_to_gas);
  $("stat-treasury").textContent = tokens(s.paid_to_treasury);
  $("stat-success").textContent = s.success_rate === null ? "-" : `${Math.round(s.success_rate * 100)}%`;
  $("stat-median").textContent =
    s.median_completion_seconds === null ? "-" : `${Math.round(s.median_completion_seconds)}s`;
  renderChart(s.completed_per_hour);
}

function renderChart(hours) {
  const svg = $("chart"), ns = "http://www.w3.org/2000/svg";
  const W = 720, H = 140, top = 10, bottom = 20, left = 28;
  const max = Math.max(1, ...hours.map((h) => h.completed));
  const slot = (W - left) / hours.length;
  const parts = [];
  const add = (tag, attrs, text) => {
    const n = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    parts.push(n);
    return n;
  };
  add("line", { x1: left, y1: H - bottom, x2: W, y2: H - bottom, class: "axis" });
  add("text", { x: left - 4, y: top + 8, "text-anchor": "end" }, max);
  add("text", { x: left - 4, y: H - bottom, "text-anchor": "end" }, 0);
  hours.forEach((h, i) => {
    const height = ((H - top - bottom) * h.completed) / max;
    const bar = add("rect", { class: "bar", x: left + i * slot + 2, y: H - bottom - height,
      width: Math.max(slot - 4, 1), height, rx: 2 });
    const when = new Date(h.hour_start * 1000).toISOString().slice(11, 16);
    bar.append(Object.assign(document.createElementNS(ns, "title"),
      { textContent: `${when} UTC: ${h.completed} completed` }));
    if (i % 4 === 0 || i === hours.length - 1) {
      add("text", { x: left + i * slot + slot / 2, y: H - 6, "text-anchor": "middle" }, when);
    }
  });
  svg.replaceChildren(...parts);
}

function renderTasks(page) {
  const rows = page.items.map((t) => {
    const row = el("tr", { "data-task": t.id },
      el("td", {}, el("a", { href: `#task/${t.id}` }, t.id)),
      el("td", {}, badge(t.status)),
      el("td", {}, t.kind_name || short(t.kind)),
      el("td", { class: "num" }, tokens(t.amount)),
      el("td", { class: "mono" }, short(t.node)),
      el("td", { class: "num" }, age(t.created_at)));
    if (!shownTasks.has(String(t.id))) row.classList.add("fresh");
    if (String(t.id) === openTask) row.classList.add("selected");
    return row;
  });
  shownTasks = new Set(page.items.map((t) => String(t.id)));
  $("tasks").tBodies[0].replaceChildren(
    ...(rows.length ? rows : [el("tr", { class: "empty" }, el("td", { colspan: 6 }, "no tasks yet"))]));
}

function renderNodes(page) {
  const rows = page.items.slice(0, NODE_ROWS).map((n) => {
    const status = el("td", {}, badge(n.status));
    if (n.online) status.append(" ", el("span", { class: "dot", title: "online" }));
    return el("tr", {},
      el("td", { class: "mono" }, short(n.address)), el("td", { class: "num" }, n.tier),
      el("td", {}, n.gpu ? "yes" : "no"), status,
      el("td", { class: "num" }, n.reputation.toFixed(2)),
      el("td", { class: "num" }, `${n.completed_tasks} / ${n.failed_tasks}`),
      el("td", { class: "num" }, tokens(n.earnings)), el("td", { class: "num" }, age(n.last_heartbeat)));
  });
  $("stat-online").textContent = page.items.filter((n) => n.online).length;
  $("nodes").tBodies[0].replaceChildren(...(rows.length ? rows
    : [el("tr", { class: "empty" }, el("td", { colspan: 8 }, "no nodes registered"))]));
}

function json(value) { return el("pre", {}, JSON.stringify(value, null, 2)); }

async function renderDetail(id) {
  const d = await getJSON(`/tasks/${id}`);
  const t = d.task;
  const facts = [
    ["status", badge(t.status)], ["kind", t.kind_name || t.kind], ["amount", tokens(t.amount)],
    ["creator", t.creator], ["provider", t.node || "-"],
    ["requirements", `tier ≥ ${d.requirements.min_tier}, GPU ${d.requirements.gpu_required ? "yes" : "no"}, ` +
      `${d.requirements.cpu_threads} threads, ${d.requirements.ram_gb} GB, ≤ ${d.requirements.max_execution_time}s`],
    ["fees", `${d.fees.provider_bps / 100}% provider, ${d.fees.gas_bps / 100}% gas, ${d.fees.treasury_bps / 100}% treasury`],
    ["payload hash", d.payload_hash],
  ];
  if (d.settlement) facts.push(["settled", `provider ${tokens(d.settlement.provider_amount)}, ` +
    `gas ${tokens(d.settlement.gas_amount)}, treasury ${tokens(d.settlement.treasury_amount)}`]);
  if (d.refund !== null) facts.push(["refund", tokens(d.refund)]);
  const list = el("dl");
  for (const [k, v] of facts) list.append(el("dt", {}, k), el("dd", {}, v));
  const timeline = el("table", { id: "timeline" },
    el("thead", {}, el("tr", {}, el("th", {}, "event"), el("th", { class: "num" }, "block"), el("th", {}, "transaction"))),
    el("tbody", {}, ...d.timeline.map((e) => el("tr", {},
      el("td", {}, e.event), el("td", { class: "num" }, e.block_number),
      el("td", { class: "mono", title: e.transaction_hash }, short(e.transaction_hash))))));
  $("detail-id").textContent = `#${t.id}`;
  $("detail-body").replaceChildren(list,
    el("h2", {}, "payload"), json(d.payload ?? d.payload_error ?? d.payload_felts),
    el("h2", {}, "result"), d.result_felts === null ? el("p", { class: "small" }, "no result yet")
      : json(d.result ?? d.result_error ?? d.result_felts),
    el("h2", {}, "timeline"), timeline);
  $("detail").hidden = false;
}

function route() {
  const match = location.hash.match(/^#task\/(\d+)$/);
  openTask = match ? match[1] : null;
  document.querySelectorAll("#tasks tr").forEach((r) => r.classList.toggle("selected", r.dataset.task === openTask));
  if (openTask) renderDetail(openTask).catch(() => { $("detail").hidden = true; });
  else $("detail").hidden = true;
}

let pending = null;
async function refresh() {
  pending = null;
  try {
    const [stats, tasks, nodes] = await Promise.all(
      [getJSON("/stats"), getJSON(`/tasks?limit=${ROWS}`), getJSON("/nodes")]);
    renderStats(stats);
    renderTasks(tasks);
    renderNodes(nodes);
    if (openTask) await renderDetail(openTask);
  } catch (err) {
    $("live").textContent = `update failed (${err.message})`;
  }
}

function soon() { if (pending === null) pending = setTimeout(refresh, 250); }

function logEvent(message) {
  const e = JSON.parse(message.data);
  const list = $("events");
  list.querySelector(".empty")?.remove();
  const id = e.values.task_id !== undefined ? ` task ${e.values.task_id}` : "";
  list.prepend(el("li", {}, `block ${e.block_number}: ${e.event}${id} `,
    el("span", { class: "mono small" }, short(e.transaction_hash))));
  while (list.children.length > 50) list.lastChild.remove();
  soon();
}

function listen() {
  const stream = new EventSource(`${API}/events/stream`);
  const live = $("live");
  stream.onopen = () => { live.textContent = "live"; live.className = "pill on"; };
  stream.onerror = () => { live.textContent = "reconnecting…"; live.className = "pill off"; };
  for (const name of EVENT_NAMES) stream.addEventListener(name, logEvent);
}

$("tasks").addEventListener("click", (e) => {
  const row = e.target.closest("tr[data-task]");
  if (row) location.hash = `#task/${row.dataset.task}`;
});
$("detail-close").addEventListener("click", (e) => { e.preventDefault(); location.hash = ""; });
window.addEventListener("hashchange", route);
refresh().then(route);
listen();
