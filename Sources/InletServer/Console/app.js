// Inlet operator console: one page over the documented admin API (openapi/inlet-admin.yaml). Plain JavaScript, no
// build step, no third-party code. The admin token lives in sessionStorage and travels as `Authorization: Bearer`;
// no cookies, so no request can be forged from another site. Everything is built with DOM calls (never innerHTML
// with data), which the Content-Security-Policy (no inline script) also requires.
"use strict";

const TOKEN_KEY = "inlet-admin-token";
const PAGE_SIZE = 50;

// ---------- small DOM helpers ----------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") el.textContent = value;
    else if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "text") el.textContent = value;
    else el.setAttribute(key, value);
  }
  for (const child of children.flat()) if (child) el.append(child);
  return el;
}

function table(headers, rows, attrs) {
  return h("div", { class: "table-wrap" },
    h("table", attrs || {},
      h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col", class: /^(#|attempts|bytes|pending|dead|count|24 h)/i.test(name) ? "num" : undefined, text: name })))),
      h("tbody", {}, rows)));
}

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter((p) => p).map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v ?? "—")]));
}

function badge(text, kind) { return h("span", { class: "badge " + (kind || "") , text }); }

function formatTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString(undefined, { year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function formatAge(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return seconds + " s";
  if (seconds < 3600) return Math.floor(seconds / 60) + " min";
  if (seconds < 86400) return (seconds / 3600).toFixed(1) + " h";
  return (seconds / 86400).toFixed(1) + " d";
}

function timeTag(iso) { return h("time", { datetime: iso, text: formatTime(iso) }); }

function decodeBase64(b64) {
  const binary = atob(b64 || "");
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// ---------- notices and confirmations ----------

let noticeShownAt = 0;

function notify(message, kind) {
  const box = document.getElementById("notice");
  box.replaceChildren(h("p", { class: kind || "ok", text: message }));
  noticeShownAt = Date.now();
}

function clearNotice() { document.getElementById("notice").replaceChildren(); }

// Moving to another page clears what an earlier page said, but not what the action that moved here just said.
function clearStaleNotice() { if (Date.now() - noticeShownAt > 2000) clearNotice(); }

function showError(error) {
  notify(error instanceof ApiError ? error.message : "Something went wrong: " + error.message, "error");
}

// A modal question; resolves true when confirmed. The dialog traps focus and Escape cancels (native <dialog>).
function confirmAction(title, text, confirmLabel, danger) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  const ok = document.getElementById("confirm-ok");
  ok.textContent = confirmLabel || "Confirm";
  ok.className = danger ? "danger" : "";
  return new Promise((resolve) => {
    const cancel = document.getElementById("confirm-cancel");
    const done = (answer) => {
      ok.removeEventListener("click", onOk);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onOk = () => done(true);
    const onCancel = (e) => { if (e) e.preventDefault(); done(false); };
    ok.addEventListener("click", onOk);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    cancel.focus();
  });
}

// ---------- the admin API ----------

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

const ERROR_WORDS = {
  unauthorized: "The gateway refused the admin token.",
  not_found: "Not found: it may have been removed, or the ID is wrong.",
  method_not_allowed: "The gateway does not offer this action here.",
  store_unavailable: "The gateway's store is unavailable right now; try again in a moment.",
  invalid_time: "That time is not valid.",
  invalid_status: "That status is not one the gateway knows.",
  invalid_cursor: "The page cursor is not valid; start from the first page.",
  filter_required: "Choose at least one filter first.",
  unknown_destination: "That destination is not configured.",
  not_a_dead_letter: "That delivery is no longer a dead letter (it may have been redelivered or discarded).",
  no_destination: "No route sends this event anywhere; choose destinations.",
  source_not_configured: "The event's source is no longer configured; choose destinations.",
  body_condition_needs_filter: "A body search reads every body: add a time range, a source, a type, a provider event ID or a status.",
  incomplete_body_condition: "A body search needs both a JSON pointer and a value.",
  invalid_body_pointer: "The JSON pointer is not valid: it starts with / (e.g. /data/object/customer).",
  invalid_body_value: "The value must be a JSON string, number, true, false or null (e.g. \"cus_123\").",
  invalid_window: "That time window is not valid.",
  invalid_step: "That step is not valid.",
  too_many_steps: "The window has too many steps for the chart.",
  invalid_dry_run: "dry_run must be true or false.",
  body_too_large: "The request was too large for the admin API.",
  request_timeout: "The admin API timed out waiting for the request.",
};

function token() { return sessionStorage.getItem(TOKEN_KEY); }

async function api(method, path, options) {
  const opts = options || {};
  const headers = { Authorization: "Bearer " + (opts.token ?? token() ?? "") };
  let response;
  try {
    response = await fetch(path, { method, headers, cache: "no-store", signal: opts.signal, body: opts.body });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "network", "Could not reach the gateway's admin API (" + e.message + "). Is the gateway running?");
  }
  if (response.status === 401 && !opts.token) {
    signOut("The gateway no longer accepts this token. Sign in again.");
    throw new ApiError(401, "unauthorized", ERROR_WORDS.unauthorized);
  }
  if (!response.ok) {
    let body = {};
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    const code = body.error || "http_" + response.status;
    let words = ERROR_WORDS[code] || "The gateway answered " + response.status + " (" + code + ").";
    if (body.hint) words += " " + body.hint[0].toUpperCase() + body.hint.slice(1) + ".";
    if (body.parameter) words += " (parameter: " + body.parameter + ")";
    if (body.destination) words += " (destination: " + body.destination + ")";
    throw new ApiError(response.status, code, words);
  }
  if (opts.raw) return response;
  return response.json();
}

function query(params) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((item) => search.append(k, item));
    else if (v !== undefined && v !== null && v !== "") search.set(k, v);
  }
  const text = search.toString();
  return text ? "?" + text : "";
}

// ---------- session ----------

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  stopView();
  renderSignIn(message);
}

function renderSignIn(message) {
  document.getElementById("nav").hidden = true;
  document.getElementById("sign-out").hidden = true;
  clearNotice();
  const input = h("input", { id: "token", type: "password", autocomplete: "current-password", required: true, "aria-describedby": "token-help" });
  const error = h("p", { id: "signin-error", class: "error-box", role: "alert", hidden: !message, text: message || "" });
  const form = h("form", { class: "signin", id: "signin-form", onsubmit: async (e) => {
    e.preventDefault();
    const candidate = input.value.trim();
    if (!candidate) { error.textContent = "Enter the admin token."; error.hidden = false; return; }
    try {
      await api("GET", "/v1/sources", { token: candidate });
    } catch (err) {
      error.textContent = err.status === 401
        ? "That token was refused (401). Use one of the tokens in the config's [admin] tokens."
        : err.message;
      error.hidden = false;
      input.focus();
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, candidate);
    if (!location.hash || location.hash === "#/" || location.hash === "#/sign-in") location.hash = "#/overview";
    route();
  } },
  h("h1", { text: "Sign in" }),
  h("label", { for: "token", text: "Admin token" }), input,
  h("p", { id: "token-help", class: "muted", text: "One of the [admin] tokens of the gateway's config. It is kept for this tab only (sessionStorage) and sent with each API call." }),
  error,
  h("div", { class: "actions" }, h("button", { type: "submit", id: "signin-submit", text: "Sign in" })));
  document.getElementById("main").replaceChildren(form);
  input.focus();
}

// ---------- routing ----------

let view = { abort: new AbortController(), timers: [], urls: [] };

function stopView() {
  view.abort.abort();
  view.timers.forEach((t) => clearInterval(t));
  view.urls.forEach((u) => URL.revokeObjectURL(u));
  view = { abort: new AbortController(), timers: [], urls: [] };
}

const ROUTES = [
  [/^\/overview$/, "overview", renderOverview],
  [/^\/tail$/, "tail", renderTail],
  [/^\/events$/, "events", renderEvents],
  [/^\/events\/([^/]+)$/, "events", renderEvent],
  [/^\/dead-letters$/, "dead-letters", renderDeadLetters],
  [/^\/quarantine$/, "quarantine", renderQuarantine],
  [/^\/quarantine\/(\d+)$/, "quarantine", renderQuarantined],
  [/^\/sources$/, "sources", renderSources],
  [/^\/destinations$/, "destinations", renderDestinations],
];

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/overview";
  const [path, search] = raw.split("?");
  return { path, params: new URLSearchParams(search || "") };
}

async function route() {
  stopView();
  if (!token()) { renderSignIn(); return; }
  document.getElementById("nav").hidden = false;
  document.getElementById("sign-out").hidden = false;
  const { path, params } = parseHash();
  const match = ROUTES.find(([pattern]) => pattern.test(path));
  if (!match) { location.hash = "#/overview"; return; }
  const [pattern, section, render] = match;
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.section === section) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  const main = document.getElementById("main");
  const signal = view.abort.signal;
  main.replaceChildren(h("p", { class: "muted", text: "Loading…" }));
  try {
    const content = await render(params, signal, ...path.match(pattern).slice(1).map(decodeURIComponent));
    if (signal.aborted) return;
    main.replaceChildren(content);
    const heading = main.querySelector("h1");
    if (heading) { heading.tabIndex = -1; if (document.activeElement === document.body || !main.contains(document.activeElement)) heading.focus({ preventScroll: true }); }
  } catch (error) {
    if (signal.aborted || error.name === "AbortError") return;
    main.replaceChildren(h("h1", { text: "Could not load this page" }), h("p", { class: "error-box", role: "alert", text: error.message || String(error) }));
  }
}

function navigate(path, params) { location.hash = "#" + path + query(params || {}); }

// ---------- overview ----------

function stackedBars(series, from, stepSeconds, label) {
  const steps = series[0].values.length;
  const width = 560, height = 190, left = 34, bottom = 20, top = 8;
  const totals = Array.from({ length: steps }, (_, i) => series.reduce((sum, s) => sum + s.values[i], 0));
  const max = Math.max(1, ...totals);
  const plotW = width - left - 4, plotH = height - bottom - top, barW = plotW / steps;
  const nodes = [svg("title", { text: label })];
  // Gridlines at whole counts: 0, the middle when it is one, and the top.
  const ticks = [...new Set([0, Math.round(max / 2), max])];
  for (const tick of ticks) {
    const y = top + plotH - (tick / max) * plotH;
    nodes.push(svg("line", { class: "axis", x1: left, x2: width - 4, y1: y, y2: y }));
    nodes.push(svg("text", { x: left - 4, y: y + 3, "text-anchor": "end", text: String(tick) }));
  }
  const start = new Date(from).getTime();
  const hhmm = (i) => new Date(start + i * stepSeconds * 1000).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  for (const [i, anchor] of [[0, "start"], [Math.floor(steps / 2), "middle"], [steps - 1, "end"]]) {
    const x = anchor === "start" ? left : anchor === "end" ? width - 4 : left + i * barW + barW / 2;
    nodes.push(svg("text", { x, y: height - 4, "text-anchor": anchor, text: hhmm(i) }));
  }
  for (let i = 0; i < steps; i++) {
    if (totals[i] === 0) continue;
    let y = top + plotH;
    const group = svg("g", {}, svg("title", { text: hhmm(i) + ": " + series.map((s) => s.values[i] + " " + s.name).join(", ") }));
    for (const s of series) {
      if (!s.values[i]) continue;
      const hgt = (s.values[i] / max) * plotH;
      y -= hgt;
      group.append(svg("rect", { class: s.cls, x: left + i * barW + 0.5, y, width: Math.max(1, barW - 1), height: hgt }));
    }
    nodes.push(group);
  }
  return svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label }, nodes);
}

function legend(series) {
  return h("ul", { class: "legend" }, series.map((s) => h("li", {}, h("span", { class: "swatch " + s.cls }), s.name + " " + s.values.reduce((a, b) => a + b, 0))));
}

async function renderOverview(params, signal) {
  const windowParam = params.get("window") || "1h";
  const step = { "15m": "10s", "1h": "1m", "6h": "5m", "24h": "15m" }[windowParam] || "1m";
  const stats = await api("GET", "/v1/stats" + query({ window: windowParam, step }), { signal });
  const picker = h("select", { id: "window", onchange: (e) => navigate("/overview", { window: e.target.value }) },
    ["15m", "1h", "6h", "24h"].map((w) => h("option", { value: w, selected: w === windowParam, text: "Last " + w.replace("m", " min").replace("h", " h") })));
  const page = h("div", {},
    h("h1", { text: "Overview" }),
    h("div", { class: "toolbar" }, h("label", { for: "window", text: "Window" }), picker,
      h("span", { class: "muted", text: `${formatTime(stats.from)} – ${formatTime(stats.until)}, ${stats.step_seconds} s steps` }),
      stats.live_counters ? null : h("span", { class: "muted", text: "(stored events only: this view does not come from the gateway process)" })),
    h("h2", { text: "Sources" }),
    h("div", { class: "cards", id: "source-cards" }, stats.sources.map((s) => {
      const series = [
        { name: "accepted", cls: "accepted", values: s.accepted },
        { name: "duplicate", cls: "duplicate", values: s.duplicate },
        { name: "refused", cls: "refused", values: s.refused },
      ];
      const label = `${s.name}: ${s.totals.accepted} accepted, ${s.totals.duplicate} duplicate, ${s.totals.refused} refused in the window`;
      const reasons = Object.entries(s.refusals_by_reason).sort((a, b) => b[1] - a[1]);
      return h("section", { class: "card", "aria-label": "Source " + s.name, dataset: { source: s.name, accepted: s.totals.accepted } },
        h("h3", {}, h("a", { href: "#/events" + query({ source: s.name }), text: s.name })),
        h("div", { class: "chart", dataset: { chart: "source", accepted: s.totals.accepted } }, stackedBars(series, stats.from, stats.step_seconds, label)),
        legend(series),
        facts([
          ["Ack latency", s.ack_latency.count ? `p50 ≤ ${s.ack_latency.p50_ms} ms, p99 ≤ ${s.ack_latency.p99_ms} ms (${s.ack_latency.count} acks)` : "no acks in the window"],
          ["Refusals", reasons.length ? h("ul", { class: "legend" }, reasons.map(([r, n]) => h("li", {}, h("a", { href: "#/quarantine" + query({ source: s.name, reason: r }), text: r }), " " + n))) : "none"],
        ]));
    })),
    h("h2", { text: "Destinations" }),
    h("div", { class: "cards" }, stats.destinations.map((d) => {
      const series = [{ name: "delivered", cls: "delivered", values: d.delivered }, { name: "failed", cls: "failed", values: d.failed }];
      return h("section", { class: "card", "aria-label": "Destination " + d.name },
        h("h3", {}, d.name, " ", circuitBadge(d.circuit), " ", d.paused ? badge("paused", "warn") : null),
        h("div", { class: "chart" }, stackedBars(series, stats.from, stats.step_seconds, `${d.name}: ${d.delivered.reduce((a, b) => a + b, 0)} delivered, ${d.failed.reduce((a, b) => a + b, 0)} failed attempts in the window`)),
        legend(series),
        facts([
          ["Queue depth", String(d.queue_depth)],
          ["Oldest due", formatAge(d.oldest_due_age_seconds)],
          ["Delivery rate", d.delivered_per_minute.toFixed(2) + " / min"],
          ["Dead letters", d.dead_letters ? h("a", { href: "#/dead-letters" + query({ destination: d.name }), text: String(d.dead_letters) }) : "0"],
        ]));
    })));
  view.timers.push(setInterval(async () => {
    if (document.hidden) return;
    const { path } = parseHash();
    if (path === "/overview") route();
  }, 30000));
  return page;
}

function circuitBadge(state) {
  return badge("circuit " + state.replace("_", "-"), state === "closed" ? "ok" : state === "open" ? "bad" : "warn");
}

// ---------- live tail ----------

async function renderTail(params, signal) {
  const rows = h("tbody", { id: "tail-rows" });
  const status = h("span", { id: "tail-status", class: "muted", role: "status", text: "Connecting…" });
  const pending = [];
  let paused = false;
  const pauseButton = h("button", { type: "button", id: "tail-pause", "aria-pressed": "false", text: "Pause", onclick: () => {
    paused = !paused;
    pauseButton.textContent = paused ? "Resume" : "Pause";
    pauseButton.setAttribute("aria-pressed", String(paused));
    if (!paused) flush();
    else status.textContent = "Paused: new lines wait until you resume.";
  } });
  const box = h("div", { class: "tail", id: "tail-box", tabindex: "0", "aria-label": "Live tail, newest at the bottom" },
    h("table", {}, h("thead", {}, h("tr", {}, ["Received", "Kind", "Source", "Type or reason", "Event"].map((t) => h("th", { scope: "col", text: t })))), rows));
  const seen = new Set();

  function rowFor(line) {
    if (line.kind === "event") {
      const e = line.event;
      return h("tr", { class: "event", dataset: { id: e.id, kind: "event" } },
        h("td", {}, timeTag(e.received_at)), h("td", {}, badge("event", "ok")), h("td", { text: e.source }),
        h("td", { text: e.type || "—" }), h("td", {}, h("a", { href: "#/events/" + encodeURIComponent(e.id), class: "mono", text: e.id })));
    }
    const r = line.refusal;
    return h("tr", { class: "refusal", dataset: { kind: "refusal", sequence: r.sequence } },
      h("td", {}, timeTag(r.received_at)), h("td", {}, badge("refused", "bad")), h("td", { text: r.source }),
      h("td", {}, h("a", { href: "#/quarantine" + query({ source: r.source === "-" ? "" : r.source, reason: r.reason }), text: r.reason })), h("td", { text: "—" }));
  }

  function flush() {
    // Stick to the bottom only when the reader is there; otherwise their scroll position stays.
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 24;
    for (const line of pending.splice(0)) rows.append(rowFor(line));
    while (rows.children.length > 500) rows.firstElementChild.remove();
    if (atBottom) box.scrollTop = box.scrollHeight;
    status.textContent = "Live: " + rows.children.length + " lines shown.";
  }

  let since = null, afterRefusal = null;
  async function follow() {
    while (!signal.aborted) {
      try {
        const response = await api("GET", "/v1/tail" + query({ seconds: 300, since, after_refusal: afterRefusal }), { signal, raw: true });
        status.textContent = paused ? status.textContent : "Live.";
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffered = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffered += decoder.decode(value, { stream: true });
          let newline;
          while ((newline = buffered.indexOf("\n")) >= 0) {
            const text = buffered.slice(0, newline);
            buffered = buffered.slice(newline + 1);
            if (!text.trim()) continue;
            const line = JSON.parse(text);
            if (line.kind === "event") {
              since = line.event.received_at;
              if (seen.has(line.event.id)) continue;
              seen.add(line.event.id);
              if (seen.size > 5000) seen.clear();
            } else if (line.kind === "refusal") {
              afterRefusal = line.refusal.sequence;
            } else {
              continue;
            }
            pending.push(line);
            if (pending.length > 2000) pending.splice(0, pending.length - 2000);
          }
          if (!paused) flush(); else if (pending.length) status.textContent = `Paused: ${pending.length} new lines waiting.`;
        }
      } catch (error) {
        if (signal.aborted || error.name === "AbortError") return;
        status.textContent = "Disconnected: " + (error.message || error) + " Retrying in 3 s.";
        await new Promise((resolve) => setTimeout(resolve, 3000));
      }
    }
  }
  follow();
  return h("div", {},
    h("h1", { text: "Live tail" }),
    h("p", { class: "muted", text: "New events and refused requests as they arrive. Pausing keeps your place; lines that arrive meanwhile are added when you resume." }),
    h("div", { class: "toolbar" }, pauseButton, status),
    box);
}

// ---------- events ----------

function toRFC3339(local) {
  if (!local) return "";
  const d = new Date(local);
  return isNaN(d) ? "" : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

async function sourceNames(signal) {
  const list = await api("GET", "/v1/sources", { signal });
  return list.sources.map((s) => s.name);
}

async function destinationNames(signal) {
  const list = await api("GET", "/v1/destinations", { signal });
  return list.destinations.map((d) => d.name);
}

function selectField(id, label, options, selected, emptyLabel) {
  return h("label", { for: id }, label,
    h("select", { id, name: id }, h("option", { value: "", text: emptyLabel || "any" }),
      options.map((o) => h("option", { value: o, selected: o === selected, text: o }))));
}

function textField(id, label, value, attrs) {
  return h("label", { for: id }, label, h("input", Object.assign({ id, name: id, value: value || "" }, attrs || {})));
}

// Cursor paging: the hash keeps the cursor of this page and the ones before it, so Back/Previous work.
function pager(params, nextCursor, path) {
  const trail = (params.get("trail") || "").split(",").filter(Boolean);
  const base = Object.fromEntries(params);
  const prev = trail.length ? () => {
    const back = trail.slice(0, -1);
    navigate(path, Object.assign({}, base, { cursor: trail[trail.length - 1] === "-" ? "" : trail[trail.length - 1], trail: back.join(",") }));
  } : null;
  const next = nextCursor ? () => {
    navigate(path, Object.assign({}, base, { cursor: nextCursor, trail: trail.concat(params.get("cursor") || "-").join(",") }));
  } : null;
  return h("div", { class: "pager" },
    h("button", { type: "button", class: "quiet", id: "page-prev", disabled: !prev, onclick: prev, text: "← Previous page" }),
    h("button", { type: "button", class: "quiet", id: "page-next", disabled: !next, onclick: next, text: "Next page →" }),
    h("span", { class: "muted", text: "Page " + (trail.length + 1) }));
}

async function renderEvents(params, signal) {
  const sources = await sourceNames(signal);
  const p = Object.fromEntries(params);
  const hasBody = p.body_pointer || p.body_value;
  const defaultSince = hasBody && !p.since && !p.source && !p.type && !p.event_key && !p.status ? new Date(Date.now() - 24 * 3600 * 1000).toISOString() : p.since;
  const form = h("form", { id: "event-filters", onsubmit: (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const inletID = (f.get("inlet_id") || "").trim();
    if (inletID) { navigate("/events/" + encodeURIComponent(inletID)); return; }
    let value = (f.get("body_value") || "").trim();
    if (value) { try { JSON.parse(value); } catch (_) { value = JSON.stringify(value); } }
    navigate("/events", {
      source: f.get("source"), type: (f.get("type") || "").trim(), status: f.get("status"), event_key: (f.get("event_key") || "").trim(),
      since: toRFC3339(f.get("since")), until: toRFC3339(f.get("until")), body_pointer: (f.get("body_pointer") || "").trim(), body_value: value,
    });
  } },
  h("div", { class: "filters" },
    selectField("source", "Source", sources, p.source),
    textField("type", "Event type", p.type, { placeholder: "invoice.paid" }),
    selectField("status", "Delivery status", ["pending", "delivered", "dead", "unrouted"], p.status),
    textField("event_key", "Provider event ID", p.event_key),
    textField("inlet_id", "Inlet event ID", "", { placeholder: "evt_…" }),
    textField("since", "Received from", toLocalInput(defaultSince), { type: "datetime-local" }),
    textField("until", "Received until", toLocalInput(p.until), { type: "datetime-local" }),
    h("div", { class: "wide" }, textField("body_pointer", "Body JSON pointer", p.body_pointer, { placeholder: "/data/object/customer", class: "mono" })),
    textField("body_value", "equals (JSON value)", p.body_value, { placeholder: "\"cus_123\"", class: "mono" }),
    h("div", {}, h("button", { type: "submit", id: "event-search", text: "Search" }), " ",
      h("a", { class: "button quiet", href: "#/events", text: "Clear" }))));
  let list;
  try {
    list = await api("GET", "/v1/events" + query({
      source: p.source, type: p.type, status: p.status, event_key: p.event_key, since: hasBody ? defaultSince : p.since, until: p.until,
      body_pointer: p.body_pointer, body_value: p.body_value, cursor: p.cursor, limit: PAGE_SIZE }), { signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    return h("div", {}, h("h1", { text: "Events" }), form, h("p", { class: "error-box", role: "alert", id: "events-error", text: error.message }));
  }
  const rows = list.events.map((e) => h("tr", { dataset: { id: e.id } },
    h("td", {}, timeTag(e.received_at)),
    h("td", {}, h("a", { href: "#/events/" + encodeURIComponent(e.id), class: "mono", text: e.id })),
    h("td", { text: e.source }), h("td", { text: e.type || "—" }), h("td", { class: "mono", text: e.event_key }),
    h("td", { text: e.verified_by || "—" }), h("td", { class: "num", text: String(e.body_bytes) }),
    h("td", {}, e.unrouted ? badge("unrouted", "warn") : null, e.duplicates ? badge(e.duplicates + " duplicates") : null)));
  return h("div", {},
    h("h1", { text: "Events" }),
    form,
    hasBody ? h("p", { class: "muted", text: "Body searches read each body of the events the other filters select (at most 5,000 per page); a time range keeps them quick." }) : null,
    h("p", { class: "muted", id: "events-count", text: list.events.length ? `${list.events.length} events on this page.` : "No events match." }),
    table(["Received", "Inlet ID", "Source", "Type", "Provider event ID", "Verified by", "Bytes", ""], rows, { id: "events-table" }),
    pager(params, list.next_cursor, "/events"));
}

// A body as received: raw text (byte for byte when it is UTF-8), pretty JSON, and a download.
function bodyViewer(bytes, contentType, fileName) {
  const text = new TextDecoder("utf-8").decode(bytes);
  let pretty = null;
  try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON */ }
  const pre = h("pre", { class: "body", id: "body-view", tabindex: "0", "aria-label": "Body" });
  const tabs = {};
  function show(which) {
    pre.textContent = which === "pretty" ? pretty : text;
    pre.dataset.view = which;
    for (const [name, button] of Object.entries(tabs)) button.setAttribute("aria-selected", String(name === which));
  }
  tabs.raw = h("button", { type: "button", id: "body-raw", role: "tab", onclick: () => show("raw"), text: "Raw" });
  if (pretty !== null) tabs.pretty = h("button", { type: "button", id: "body-pretty", role: "tab", onclick: () => show("pretty"), text: "Pretty JSON" });
  const url = URL.createObjectURL(new Blob([bytes], { type: contentType || "application/octet-stream" }));
  view.urls.push(url);
  show(pretty !== null ? "pretty" : "raw");
  return h("div", {},
    h("div", { class: "tabs", role: "tablist", "aria-label": "Body view" }, Object.values(tabs),
      h("a", { class: "button quiet", href: url, download: fileName, id: "body-download", text: `Download (${bytes.length} bytes)` })),
    pre);
}

function headerTable(headers) {
  return table(["Header", "Value"], headers.map(([name, value]) => h("tr", {}, h("td", { class: "mono", text: name }), h("td", { class: "mono value", text: value }))));
}

// Bash ANSI-C quoting ($'…'): every byte outside printable ASCII as \xHH, so the body is reproduced exactly.
function shellQuote(bytes) {
  let out = "$'";
  for (const b of bytes) {
    if (b >= 0x20 && b < 0x7f && b !== 0x27 && b !== 0x5c) out += String.fromCharCode(b);
    else out += "\\x" + b.toString(16).padStart(2, "0");
  }
  return out + "'";
}

const CREDENTIAL_HEADER = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|apikey)$|token|secret|password|passwd|api[-_]?key|session/i;
const HOP_HEADER = /^(host|content-length|connection|transfer-encoding|keep-alive|upgrade|te|trailer|expect)$/i;

function curlCommand(event, bytes) {
  const enc = new TextEncoder();
  const lines = [`curl -sS -X ${event.method} "\${INLET_URL:-http://127.0.0.1:8080}${event.path}${event.query ? "?" + event.query : ""}"`];
  for (const [name, value] of event.headers) {
    if (HOP_HEADER.test(name)) continue;
    const shown = CREDENTIAL_HEADER.test(name) ? "[redacted]" : value;
    lines.push(`  -H ${shellQuote(enc.encode(name + ": " + shown))}`);
  }
  lines.push(`  --data-binary ${shellQuote(bytes)}`);
  return lines.join(" \\\n");
}

function attemptItem(a) {
  const ok = a.status !== null && a.status !== undefined && a.status >= 200 && a.status < 300;
  return h("li", { class: ok ? "ok" : "bad", dataset: { attempt: a.attempt } },
    h("strong", { text: `Attempt ${a.attempt}` }), " · ", timeTag(a.started_at), ` · ${a.duration_ms} ms · `,
    a.status !== null && a.status !== undefined ? badge("HTTP " + a.status, ok ? "ok" : "bad") : badge(a.error || "no answer", "bad"),
    a.error && a.status ? " " + a.error : null,
    a.next_attempt_at ? h("span", { class: "muted" }, " · next retry ", timeTag(a.next_attempt_at)) : null,
    a.response_snippet ? h("details", {}, h("summary", { text: "Answer (first KiB)" }), h("pre", { class: "body", text: a.response_snippet.slice(0, 1024) })) : null);
}

function deliveriesView(event) {
  if (!event.deliveries.length) return h("p", { class: "muted", id: "deliveries", text: event.unrouted ? "No route sent this event anywhere." : "No deliveries." });
  return h("div", { class: "cards", id: "deliveries" }, event.deliveries.map((d) => h("section", { class: "card", dataset: { delivery: d.id, state: d.state } },
    h("h3", {}, d.destination, " ", badge(d.state, d.state === "delivered" ? "ok" : d.state === "dead" ? "bad" : "warn")),
    facts([["Delivery", String(d.id)], ["Attempts", String(d.attempts)], d.next_attempt_at ? ["Next attempt", timeTag(d.next_attempt_at)] : null,
      d.last_error ? ["Last error", d.last_error] : null]),
    d.attempt_log.length ? h("ol", { class: "timeline", "aria-label": "Attempts" }, d.attempt_log.map(attemptItem)) : h("p", { class: "muted", text: "No attempt yet." }))));
}

async function renderEvent(params, signal, id) {
  const [event, destinations] = await Promise.all([
    api("GET", "/v1/events/" + encodeURIComponent(id), { signal }),
    destinationNames(signal),
  ]);
  const bytes = decodeBase64(event.body_base64);
  const contentType = (event.headers.find(([n]) => n.toLowerCase() === "content-type") || [])[1];
  let cloudEvent = "";
  try {
    const response = await api("GET", "/v1/events/" + encodeURIComponent(id) + "/cloudevent", { signal, raw: true });
    const text = await response.text();
    try { cloudEvent = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { cloudEvent = text; }
  } catch (error) {
    if (error.name === "AbortError") throw error;
    cloudEvent = "Not available: " + error.message;
  }
  const curlText = h("textarea", { class: "curl", id: "curl-text", readonly: true, hidden: true, "aria-label": "curl command" });
  const chosen = h("div", { class: "checks", role: "group", "aria-label": "Destinations to replay to" },
    destinations.map((d) => h("label", {}, h("input", { type: "checkbox", value: d, name: "replay-destination" }), d)));

  async function replay(targets) {
    const what = targets.length ? "to " + targets.join(", ") : "to the destinations its routes choose now";
    if (!(await confirmAction("Replay this event?", `The event is queued again ${what}, marked as a replay.`, "Replay"))) return;
    try {
      const result = await api("POST", "/v1/events/" + encodeURIComponent(id) + "/replay" + query({ destination: targets }));
      notify(`Replay queued to ${result.destinations.join(", ")} (deliveries ${result.delivery_ids.join(", ")}).`);
      route();
    } catch (error) { showError(error); }
  }

  let deliveries = deliveriesView(event);
  const page = h("div", {},
    h("h1", {}, "Event ", h("span", { class: "mono", text: event.id })),
    facts([
      ["Source", h("a", { href: "#/events" + query({ source: event.source }), text: event.source })],
      ["Provider", event.provider],
      ["Type", event.type || "—"],
      ["Provider event ID", h("span", { class: "mono", text: event.event_key })],
      ["Key from", event.key_origin === "provider" ? "the provider's event ID" : "the body's SHA-256 (no event ID)"],
      ["Received", timeTag(event.received_at)],
      ["Provider timestamp", event.provider_timestamp ? timeTag(event.provider_timestamp) : "—"],
      ["Verified by secret", h("span", { id: "verified-by", text: event.verified_by || "—" })],
      ["Client address", event.client_address || "—"],
      ["Request", h("span", { class: "mono", text: `${event.method} ${event.path}${event.query ? "?" + event.query : ""}` })],
      ["Duplicates", String(event.duplicates)],
    ]),
    h("h2", { text: "Actions" }),
    h("div", { class: "actions-row" },
      h("button", { type: "button", id: "replay-all", onclick: () => replay([]), text: "Replay to its routes" }),
      h("button", { type: "button", class: "quiet", id: "replay-chosen", onclick: () => {
        const targets = [...chosen.querySelectorAll("input:checked")].map((i) => i.value);
        if (!targets.length) { notify("Choose at least one destination to replay to.", "error"); return; }
        replay(targets);
      }, text: "Replay to chosen destinations" }),
      h("button", { type: "button", class: "quiet", id: "copy-curl", onclick: async () => {
        curlText.value = curlCommand(event, bytes);
        curlText.hidden = false;
        try {
          await navigator.clipboard.writeText(curlText.value);
          notify("Copied a curl command that reproduces the request (credential headers redacted; set INLET_URL).");
        } catch (_) {
          curlText.select();
          notify("The browser did not allow copying: the command is selected below, copy it with Ctrl+C.");
        }
      }, text: "Copy as curl" })),
    chosen,
    curlText,
    h("h2", { text: "Deliveries" }),
    deliveries,
    h("h2", { text: "Headers" }),
    headerTable(event.headers),
    h("h2", { text: "Body as received" }),
    bodyViewer(bytes, contentType, `${event.id}.body`),
    h("h2", { text: "The CloudEvent as forwarded" }),
    h("p", { class: "muted", text: "What a cloudevents destination receives on the first attempt (replays add inletreplay)." }),
    h("pre", { class: "body", id: "cloudevent", tabindex: "0", text: cloudEvent }));
  // While a delivery is pending, keep its timeline current (in place: the rest of the page keeps its state).
  let polls = 0;
  const signalNow = signal;
  const timer = setInterval(async () => {
    if (document.hidden || signalNow.aborted) return;
    if (++polls > 60) { clearInterval(timer); return; }
    try {
      const fresh = await api("GET", "/v1/events/" + encodeURIComponent(id), { signal: signalNow });
      const next = deliveriesView(fresh);
      deliveries.replaceWith(next);
      deliveries = next;
      if (!fresh.deliveries.some((d) => d.state === "pending")) polls = Math.max(polls, 55);
    } catch (_) { /* the next tick tries again */ }
  }, 1500);
  view.timers.push(timer);
  return page;
}

// ---------- dead letters ----------

async function renderDeadLetters(params, signal) {
  const p = Object.fromEntries(params);
  const [destinations, sources] = await Promise.all([destinationNames(signal), sourceNames(signal)]);
  const list = await api("GET", "/v1/dead-letters" + query({ destination: p.destination, cursor: p.cursor, limit: PAGE_SIZE }), { signal });
  const shown = list.dead_letters.filter((d) => !p.source || d.source === p.source);
  const form = h("form", { onsubmit: (e) => {
    e.preventDefault();
    const f = new FormData(form);
    navigate("/dead-letters", { destination: f.get("destination"), source: f.get("source") });
  } }, h("div", { class: "filters" },
    selectField("destination", "Destination", destinations, p.destination),
    selectField("source", "Source", sources, p.source),
    h("div", {}, h("button", { type: "submit", text: "Filter" }))));

  async function act(label, method, path, done) {
    try { await api(method, path); notify(done); route(); } catch (error) { showError(error); }
  }

  const rows = shown.map((d) => h("tr", { dataset: { delivery: d.delivery_id } },
    h("td", { class: "num", text: String(d.delivery_id) }),
    h("td", {}, h("a", { href: "#/events/" + encodeURIComponent(d.event_id), class: "mono", text: d.event_id })),
    h("td", { text: d.destination }), h("td", { text: d.source }), h("td", { text: d.type || "—" }),
    h("td", { class: "num", text: String(d.attempts) }),
    h("td", { text: d.last_status ? "HTTP " + d.last_status : d.last_error || "—" }),
    h("td", {}, timeTag(d.dead_at), d.replay ? [" ", badge("replay")] : null),
    h("td", {}, h("div", { class: "actions-row" },
      h("button", { type: "button", onclick: async () => {
        if (await confirmAction("Redeliver this dead letter?", `Delivery ${d.delivery_id} to ${d.destination} starts again with fresh attempts.`, "Redeliver"))
          act("redeliver", "POST", `/v1/dead-letters/${d.delivery_id}/redeliver`, `Delivery ${d.delivery_id} queued again to ${d.destination}.`);
      }, text: "Redeliver" }),
      h("button", { type: "button", class: "quiet", onclick: async () => {
        if (await confirmAction("Discard this dead letter?", `Delivery ${d.delivery_id} is dropped. The event stays stored and can be replayed.`, "Discard", true))
          act("discard", "DELETE", `/v1/dead-letters/${d.delivery_id}`, `Delivery ${d.delivery_id} discarded.`);
      }, text: "Discard" })))));

  const bulk = h("button", { type: "button", id: "redeliver-all", onclick: async () => {
    const filter = { destination: p.destination, source: p.source };
    try {
      const dry = await api("POST", "/v1/dead-letters/redeliver" + query(Object.assign({ dry_run: "true" }, filter)));
      if (!dry.matched) { notify("No dead letters match these filters."); return; }
      const scope = [p.destination && "to " + p.destination, p.source && "from " + p.source].filter(Boolean).join(" ") || "in every destination";
      if (!(await confirmAction(`Redeliver ${dry.matched} dead letters?`, `${dry.matched} dead letters ${scope} start again with fresh attempts.`, `Redeliver ${dry.matched}`))) return;
      const result = await api("POST", "/v1/dead-letters/redeliver" + query(filter));
      notify(`${result.redelivered} dead letters queued again.`);
      route();
    } catch (error) { showError(error); }
  }, text: "Redeliver all matching…" });

  return h("div", {},
    h("h1", { text: "Dead letters" }),
    form,
    h("div", { class: "toolbar" }, bulk),
    shown.length ? table(["Delivery", "Event", "Destination", "Source", "Type", "Attempts", "Last answer", "Dead since", ""], rows, { id: "dead-letters-table" })
      : h("p", { class: "muted", text: "No dead letters on this page." }),
    pager(params, list.next_cursor, "/dead-letters"));
}

// ---------- quarantine ----------

async function renderQuarantine(params, signal) {
  const p = Object.fromEntries(params);
  const sources = await sourceNames(signal);
  const list = await api("GET", "/v1/quarantine" + query({ source: p.source, reason: p.reason, cursor: p.cursor, limit: PAGE_SIZE }), { signal });
  const form = h("form", { onsubmit: (e) => {
    e.preventDefault();
    const f = new FormData(form);
    navigate("/quarantine", { source: f.get("source"), reason: (f.get("reason") || "").trim() });
  } }, h("div", { class: "filters" },
    selectField("source", "Source", sources, p.source),
    textField("reason", "Reason", p.reason, { placeholder: "signature_mismatch" }),
    h("div", {}, h("button", { type: "submit", text: "Filter" }))));
  const rows = list.quarantine.map((q) => h("tr", { dataset: { id: q.id } },
    h("td", { class: "num" }, h("a", { href: "#/quarantine/" + q.id, text: String(q.id) })),
    h("td", {}, timeTag(q.received_at)), h("td", { text: q.source }), h("td", {}, badge(q.reason, "bad")),
    h("td", { class: "mono", text: q.peer || "—" }), h("td", { class: "num", text: String(q.body_bytes) }), h("td", {}, timeTag(q.expires_at)),
    h("td", {}, h("div", { class: "actions-row" },
      h("button", { type: "button", onclick: () => readmitOne(q.id) , text: "Re-admit" }),
      h("button", { type: "button", class: "quiet", onclick: () => discardQuarantined(q.id), text: "Discard" })))));
  const bulk = h("button", { type: "button", id: "readmit-all", onclick: async () => {
    const filter = { source: p.source, reason: p.reason };
    try {
      const dry = await api("POST", "/v1/quarantine/readmit" + query(Object.assign({ dry_run: "true" }, filter)));
      if (!dry.matched) { notify("Nothing in the quarantine matches these filters."); return; }
      if (!(await confirmAction(`Re-admit ${dry.matched} requests?`,
        `${dry.matched} match: ${dry.would_admit} would pass verification now, ${dry.rejected} would be refused again (and stay).`, `Re-admit ${dry.matched}`))) return;
      const result = await api("POST", "/v1/quarantine/readmit" + query(filter));
      notify(`Re-admitted: ${result.accepted} accepted, ${result.duplicate} duplicates, ${result.rejected} still refused.`);
      route();
    } catch (error) { showError(error); }
  }, text: "Re-admit all matching…" });
  return h("div", {},
    h("h1", { text: "Quarantine" }),
    h("p", { class: "muted", text: "Requests admission refused, kept for a while with their exact bytes. Fix the config (a secret, a tolerance), reload, then re-admit: they are verified again as they arrived." }),
    form,
    h("div", { class: "toolbar" }, bulk),
    list.quarantine.length ? table(["#", "Received", "Source", "Reason", "Peer", "Bytes", "Expires", ""], rows, { id: "quarantine-table" })
      : h("p", { class: "muted", text: "Nothing in the quarantine matches." }),
    pager(params, list.next_cursor, "/quarantine"));
}

async function readmitOne(id, after) {
  if (!(await confirmAction("Re-admit this request?", `Request ${id} is verified again against the config running now; if it passes it is stored and delivered.`, "Re-admit"))) return;
  try {
    const result = await api("POST", `/v1/quarantine/${id}/readmit`);
    if (result.outcome === "accepted") notify(`Request ${id} re-admitted as event ${result.event_id}.`);
    else if (result.outcome === "duplicate") notify(`Request ${id} was already stored as event ${result.event_id}; nothing new is delivered.`);
    else notify(`Request ${id} is still refused: ${result.reason}. It stays in the quarantine.`, "error");
    if (after && result.outcome !== "rejected") after(result); else route();
  } catch (error) { showError(error); }
}

async function discardQuarantined(id, after) {
  if (!(await confirmAction("Discard this request?", `Request ${id} is deleted from the quarantine for good.`, "Discard", true))) return;
  try {
    await api("DELETE", `/v1/quarantine/${id}`);
    notify(`Request ${id} discarded.`);
    if (after) after(); else route();
  } catch (error) { showError(error); }
}

async function renderQuarantined(params, signal, id) {
  const [entry, verdict] = await Promise.all([
    api("GET", "/v1/quarantine/" + id, { signal }),
    api("GET", `/v1/quarantine/${id}/verdict`, { signal }),
  ]);
  const bytes = decodeBase64(entry.body_base64);
  const contentType = (entry.headers.find(([n]) => n.toLowerCase() === "content-type") || [])[1];
  const verdictText = verdict.outcome === "would_admit"
    ? "Verified against the config running now, it would pass: re-admitting stores and delivers it (or finds it already stored)."
    : verdict.reason === verdict.original_reason
      ? `Verified again now, it is still refused for the same reason (${verdict.reason}).`
      : `Verified again now, it would be refused for another reason: ${verdict.reason} (was ${verdict.original_reason}).`;
  return h("div", {},
    h("h1", { text: "Quarantined request " + entry.id }),
    h("p", { class: verdict.outcome === "would_admit" ? "" : "error-box", id: "verdict", dataset: { outcome: verdict.outcome }, text: verdictText }),
    facts([
      ["Source", entry.source], ["Provider", entry.provider], ["Reason", badge(entry.reason, "bad")],
      ["Received", timeTag(entry.received_at)], ["Expires", timeTag(entry.expires_at)], ["Peer", entry.peer || "—"],
      ["Request", h("span", { class: "mono", text: `${entry.method} ${entry.path}${entry.query ? "?" + entry.query : ""}` })],
    ]),
    h("div", { class: "actions-row" },
      h("button", { type: "button", id: "readmit-one", onclick: () => readmitOne(entry.id, (r) => navigate("/events/" + encodeURIComponent(r.event_id))), text: "Re-admit" }),
      h("button", { type: "button", class: "quiet", id: "discard-one", onclick: () => discardQuarantined(entry.id, () => navigate("/quarantine")), text: "Discard" }),
      h("a", { class: "button quiet", href: "#/quarantine", text: "Back to the list" })),
    h("h2", { text: "Headers" }),
    headerTable(entry.headers),
    h("h2", { text: "Body as received" }),
    bodyViewer(bytes, contentType, `quarantine-${entry.id}.body`));
}

// ---------- sources and destinations ----------

async function renderSources(params, signal) {
  const list = await api("GET", "/v1/sources", { signal });
  return h("div", {},
    h("h1", { text: "Sources" }),
    h("div", { class: "cards" }, list.sources.map((s) => h("section", { class: "card", "aria-label": "Source " + s.name },
      h("h2", {}, h("a", { href: "#/events" + query({ source: s.name }), text: s.name })),
      facts([["Path", h("span", { class: "mono", text: s.path })], ["Provider", s.provider], ["Destinations", s.destinations.join(", ") || "none"]]),
      table(["Secret", "State", "Window", "Last verified", "24 h"], s.secrets.map((secret) => {
        // The gateway says which secrets expire within its warning horizon ([secrets] expiry_warning_days).
        let warning = null;
        if (secret.state === "expired") warning = badge("expired", "bad");
        else if (secret.expiring_soon) warning = badge("expires " + formatTime(secret.expires_at), "warn");
        return h("tr", {},
          h("td", { class: "mono", text: secret.label }),
          h("td", {}, badge(secret.state.replace(/_/g, " "), secret.state === "active" ? "ok" : secret.state === "expired" ? "bad" : "warn"), warning ? [" ", warning] : null),
          h("td", { text: `${secret.not_before ? "from " + formatTime(secret.not_before) : "from the start"}, ${secret.expires_at ? "until " + formatTime(secret.expires_at) : "no expiry"}` }),
          h("td", {}, secret.last_verified_at ? timeTag(secret.last_verified_at) : "never"),
          h("td", { class: "num", text: String(secret.verified_24h) }));
      }))))));
}

async function renderDestinations(params, signal) {
  const list = await api("GET", "/v1/destinations", { signal });
  const rows = list.destinations.map((d) => h("tr", { dataset: { destination: d.name } },
    h("td", { text: d.name }), h("td", { class: "mono", text: d.url }), h("td", { text: d.payload }),
    h("td", {}, circuitBadge(d.circuit)),
    h("td", {}, d.paused ? badge("paused", "warn") : badge("running", "ok")),
    h("td", { class: "num", text: String(d.pending) }), h("td", { text: formatAge(d.oldest_due_age_seconds) }),
    h("td", { class: "num" }, d.dead_letters ? h("a", { href: "#/dead-letters" + query({ destination: d.name }), text: String(d.dead_letters) }) : "0"),
    h("td", {}, h("button", { type: "button", class: d.paused ? "" : "quiet", dataset: { action: d.paused ? "resume" : "pause" }, onclick: async () => {
      const action = d.paused ? "resume" : "pause";
      if (action === "pause" && !(await confirmAction(`Pause ${d.name}?`, "Nothing is delivered to it until you resume; its queue keeps filling.", "Pause"))) return;
      try {
        const state = await api("POST", `/v1/destinations/${encodeURIComponent(d.name)}/${action}`);
        notify(state.paused ? `${d.name} is paused.` : `${d.name} is running again.`);
        route();
      } catch (error) { showError(error); }
    }, text: d.paused ? "Resume" : "Pause" }))));
  return h("div", {},
    h("h1", { text: "Destinations" }),
    table(["Name", "URL", "Payload", "Circuit", "State", "Pending", "Oldest due", "Dead letters", ""], rows, { id: "destinations-table" }));
}

// ---------- start ----------

document.getElementById("sign-out").addEventListener("click", () => {
  history.replaceState(null, "", location.pathname);
  signOut("Signed out: this tab forgot the token.");
});
window.addEventListener("hashchange", () => { clearStaleNotice(); route(); });
route();
