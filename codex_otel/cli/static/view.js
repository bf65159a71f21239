// codex-otel view: polls /api/state (small: the header, each conversation's summary, the session's
// charts) and, for the conversation shown, /api/conversation with the turns it has open and the
// version it has, so a poll moves only what changed. Every value is put on the page as text
// (textContent), never as markup: what was exported is what is shown, a redacted prompt included.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const POLL_MS = 1000;
const COLORS = {
  input: "#1565c0", cached: "#90caf9", output: "#ef6c00", reasoning: "#6a1b9a",
  events: "#1565c0", metrics: "#ffb300", ok: "#2e7d32", failed: "#c62828",
};
const LANES = [
  ["codex.user_prompt", "prompt", "#00838f"],
  ["codex.conversation_starts", "prompt", "#00838f"],
  ["codex.api_request", "requests", "#1565c0"],
  ["codex.websocket_request", "requests", "#1565c0"],
  ["codex.sse_event", "stream", "#6a1b9a"],
  ["codex.websocket_event", "stream", "#6a1b9a"],
  ["codex.tool_decision", "tools", "#ef6c00"],
  ["codex.tool_result", "tools", "#ef6c00"],
];
const LANE_NAMES = ["prompt", "requests", "stream", "tools", "other"];
// The fields worth a glance per event; every one is in the detail panel.
const SUMMARY = {
  "codex.conversation_starts": ["provider_name", "reasoning_effort", "approval_policy", "sandbox_policy", "mcp_servers"],
  "codex.api_request": ["attempt", "http.response.status_code", "duration_ms", "error.message"],
  "codex.sse_event": ["event.kind", "duration_ms", "input_token_count", "cached_token_count", "output_token_count", "reasoning_token_count", "error.message"],
  "codex.user_prompt": ["prompt_length", "prompt"],
  "codex.tool_decision": ["tool_name", "call_id", "decision", "source"],
  "codex.tool_result": ["tool_name", "call_id", "success", "duration_ms", "arguments", "output"],
};
const SKIP = new Set(["event.sequence", "turn.id"]);
// A waterfall longer than this opens collapsed below its first level (failures stay open).
const LONG_WATERFALL = 40;
// Siblings past this many show the failing ones and the first and last few.
const MANY_SIBLINGS = 30;
const SIBLINGS_SHOWN = 5;
const DEFAULT_OPEN_ERROR_TURNS = 2;
const MAX_TOOLS = 8;

let state = null;
let version = "";
let selected = null;
let conversation = null;     // the shown conversation's turns (headers) and charts
let conversationVersion = -1;
let conversationId = null;
const bodies = new Map();    // turn key -> {events, spans, hidden_events}
const userOpen = new Map();  // turn key -> true/false, as the user toggled it
const zooms = new Map();     // turn key -> [from, to], ms from the turn's origin
const folds = new Map();     // turn key -> Map(span id -> collapsed?)
let filter = { errors: false, tool: "", model: "", q: "" };
let detail = null;           // the record in the detail panel

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

function short(value, max) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

function clock(nanos) {
  const date = new Date(Number(BigInt(nanos) / 1000000n));
  return date.toLocaleTimeString([], { hour12: false }) + "." + String(date.getMilliseconds()).padStart(3, "0");
}

function mib(bytes) { return (bytes / 1048576).toFixed(1); }

function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

function millis(nanos, origin) { return (nanos - origin) / 1e6; }

function num(value) { const n = Number(value); return Number.isFinite(n) ? n : 0; }

function fmt(n) {
  if (Math.abs(n) >= 10000) return (n / 1000).toFixed(0) + "k";
  if (Math.abs(n) >= 1000) return (n / 1000).toFixed(1) + "k";
  return String(Math.round(n * 10) / 10);
}

function filterQuery() {
  const params = new URLSearchParams();
  if (filter.errors) params.set("errors", "1");
  if (filter.tool) params.set("tool", filter.tool);
  if (filter.model) params.set("model", filter.model);
  if (filter.q) params.set("q", filter.q);
  return params;
}

async function getJson(path, params) {
  const response = await fetch(`${path}?${params}`, { cache: "no-store" });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

// -- header -----------------------------------------------------------------------------

function renderHeader() {
  const sources = clear(document.getElementById("sources"));
  for (const source of state.sources) sources.appendChild(el("li", {}, source));
  const notes = clear(document.getElementById("notes"));
  for (const note of state.notes) notes.appendChild(el("li", {}, note));
  const progress = clear(document.getElementById("progress"));
  for (const [path, [done, size]] of Object.entries(state.progress)) {
    if (done >= size) continue;
    const item = el("li", { "data-path": path }, `reading ${path}: ${mib(done)} of ${mib(size)} MiB `);
    item.appendChild(el("progress", { max: String(size), value: String(done) }));
    progress.appendChild(item);
  }
  const bad = Object.values(state.bad_lines).reduce((a, b) => a + b, 0);
  document.getElementById("bad-lines").textContent = bad ? `${plural(bad, "bad line")} skipped` : "";
  const limits = state.limits, dropped = state.dropped, counts = state.counts;
  document.getElementById("limits").textContent =
    `Memory cap: the newest ${limits.max_events.toLocaleString()} events and ` +
    `${limits.max_spans.toLocaleString()} spans, ${limits.max_series.toLocaleString()} metric series; ` +
    `values longer than ${limits.max_value_chars} characters are cut. Holding ${counts.events} events, ` +
    `${counts.series} metric series, ${counts.spans} spans; dropped so far: ${dropped.events} events, ` +
    `${dropped.spans} spans, ${dropped.metric_points} metric points of series past the cap.`;
  fillSelect("tool-filter", state.facets.tools, filter.tool);
  fillSelect("model-filter", state.facets.models, filter.model);
  const active = filter.errors || filter.tool || filter.model || filter.q;
  document.getElementById("filter-note").textContent = active
    ? `filtered: ${plural(state.conversations.length, "conversation")} match; the charts show what matches`
    : "";
}

function fillSelect(id, values, current) {
  const select = document.getElementById(id);
  const wanted = ["", ...values];
  const have = [...select.options].map((o) => o.value);
  if (wanted.length === have.length && wanted.every((v, i) => v === have[i])) return;
  clear(select);
  for (const value of wanted) select.appendChild(el("option", { value }, value || "any"));
  select.value = current;
}

// -- conversations ------------------------------------------------------------------------

function renderConversations() {
  const list = clear(document.getElementById("conversations"));
  document.getElementById("empty").hidden = state.conversations.length > 0;
  if (!state.conversations.some((c) => c.id === selected)) {
    const last = state.conversations[state.conversations.length - 1];
    selected = last ? last.id : null;
  }
  for (const summary of state.conversations) {
    const item = el("li", { "data-id": summary.id });
    if (summary.id === selected) item.classList.add("selected");
    item.appendChild(el("span", { class: "id" }, summary.id));
    item.appendChild(document.createTextNode(" "));
    if (summary.errors) item.appendChild(el("span", { class: "badge" }, plural(summary.errors, "error")));
    item.appendChild(el("span", { class: "meta" },
      `${summary.model || ""} · ${summary.turns} turns · ${summary.events} events · ${clock(summary.start)}`));
    item.addEventListener("click", () => { select(summary.id); });
    list.appendChild(item);
  }
}

function select(id) {
  selected = id;
  forgetConversation();
  renderConversations();
  refresh();
}

function forgetConversation() {
  conversation = null;
  conversationId = null;
  conversationVersion = -1;
  bodies.clear();
}

// -- charts -------------------------------------------------------------------------------

const CHART = { width: 480, height: 190, left: 44, right: 8, top: 20, bottom: 36 };

function axes(root, max, label) {
  const { width, height, left, right, top, bottom } = CHART;
  root.setAttribute("viewBox", `0 0 ${width} ${height}`);
  root.appendChild(svg("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, stroke: "#999" }));
  root.appendChild(svg("line", { x1: left, y1: top, x2: left, y2: height - bottom, stroke: "#999" }));
  for (const fraction of [0, 0.5, 1]) {
    const y = height - bottom - fraction * (height - top - bottom);
    root.appendChild(svg("text", { x: left - 4, y: y + 4, "text-anchor": "end" }, fmt(max * fraction)));
  }
  root.appendChild(svg("text", { x: 2, y: height - 3, class: "source" }, label));
}

function legend(root, names) {
  let x = CHART.width - CHART.right;
  for (const name of [...names].reverse()) {
    x -= 8 + name.length * 6 + 14;
    root.appendChild(svg("rect", { x, y: 3, width: 10, height: 10, fill: COLORS[name] }));
    root.appendChild(svg("text", { x: x + 13, y: 12 }, name));
  }
}

function bars(root, groups, series, max) {
  // groups: [{label, values: {series: n}}]; one cluster of bars per group.
  const { width, height, left, right, top, bottom } = CHART;
  const plot = height - top - bottom;
  const slot = (width - left - right) / Math.max(groups.length, 1);
  const bar = Math.max(2, Math.min(22, (slot - 6) / series.length));
  const every = Math.ceil(groups.length / 12);  // labels that would overlap are skipped
  groups.forEach((group, index) => {
    const x0 = left + index * slot + (slot - bar * series.length) / 2;
    series.forEach((name, k) => {
      const value = group.values[name] || 0;
      const h = max > 0 ? (value / max) * plot : 0;
      const rect = svg("rect", { x: x0 + k * bar, y: height - bottom - h, width: bar - 1, height: h,
        fill: COLORS[name], class: "bar", "data-series": name, "data-value": value });
      rect.appendChild(svg("title", {}, `${group.label} ${name}: ${value}`));
      root.appendChild(rect);
    });
    if (index % every === 0) {
      root.appendChild(svg("text", { x: left + index * slot + slot / 2, y: height - bottom + 13,
        "text-anchor": "middle", class: "group-label" }, group.label));
    }
  });
}

function chart(section, name) {
  return clear(document.querySelector(`#${section} figure[data-chart="${name}"] svg`));
}

function drawTokens(turns) {
  const root = chart("conv-charts", "tokens");
  const series = ["input", "cached", "output", "reasoning"];
  const shown = turns.filter((t) => t.prompt !== null || t.tokens.input);
  const groups = shown.map((turn) => ({ label: `turn ${turn.index}`, values: turn.tokens }));
  const max = Math.max(1, ...groups.flatMap((g) => series.map((s) => g.values[s] || 0)));
  axes(root, max, "from the events of this conversation (response.completed usage)");
  legend(root, series);
  bars(root, groups, series, max);
}

function drawDistribution(section, name, data) {
  const root = chart(section, name);
  const bounds = data.bounds;
  const counts = data.events, metrics = data.metrics;
  let last = 0;
  counts.forEach((n, i) => { if (n || (metrics && metrics[i])) last = i; });
  const groups = [];
  for (let i = 0; i <= Math.min(last + 1, counts.length - 1); i++) {
    const label = i < bounds.length ? `≤${fmt(bounds[i])}` : `>${fmt(bounds[bounds.length - 1])}`;
    groups.push({ label, values: { events: counts[i], metrics: metrics ? metrics[i] : 0 } });
  }
  const series = metrics ? ["events", "metrics"] : ["events"];
  const max = Math.max(1, ...groups.flatMap((g) => series.map((s) => g.values[s])));
  axes(root, max, metrics ? "count per bucket: events, and the metric's histogram" : "count per bucket, from the events");
  legend(root, series);
  bars(root, groups, series, max);
}

function drawTools(section, tools, toolMetrics) {
  const root = chart(section, "tools");
  const { width, height, left, right, top } = CHART;
  root.setAttribute("viewBox", `0 0 ${width} ${height}`);
  // Past MAX_TOOLS, the tools with the most failures, then calls (the rest said, not drawn).
  const calls = (n) => tools[n].ok + tools[n].failed;
  const all = Object.keys(tools);
  const names = all.sort((a, b) => tools[b].failed - tools[a].failed || calls(b) - calls(a))
    .slice(0, MAX_TOOLS).sort();
  const hasMetrics = Object.keys(toolMetrics).length > 0;
  const rest = all.length - names.length;
  root.appendChild(svg("text", { x: 2, y: height - 3, class: "source" },
    (hasMetrics ? "bars: events; in brackets: calls counted by the metrics" : "from the events") +
    (rest ? ` · ${plural(rest, "more tool")} not drawn (the tool filter shows one)` : "")));
  legend(root, ["ok", "failed"]);
  const max = Math.max(1, ...names.map((n) => tools[n].ok + tools[n].failed));
  const row = Math.min(28, (height - top - 10) / Math.max(names.length, 1));
  const labelWidth = 90, plot = width - left - right - labelWidth - 150;
  names.forEach((name, i) => {
    const tool = tools[name], y = top + 6 + i * row, calls = tool.ok + tool.failed;
    root.appendChild(svg("text", { x: 4, y: y + row / 2 + 4 }, short(name, 14)));
    let x = labelWidth;
    for (const part of ["ok", "failed"]) {
      const w = (tool[part] / max) * plot;
      const rect = svg("rect", { x, y, width: w, height: row - 6, fill: COLORS[part], class: "bar",
        "data-series": part, "data-tool": name, "data-value": tool[part] });
      rect.appendChild(svg("title", {}, `${name} ${part}: ${tool[part]}`));
      root.appendChild(rect);
      x += w;
    }
    const mean = calls ? tool.duration_ms / calls : 0;
    const metric = toolMetrics[name];
    const extra = metric ? ` [${metric.ok + metric.failed}]` : "";
    root.appendChild(svg("text", { x: x + 6, y: y + row / 2 + 2 },
      `${tool.ok} ok, ${tool.failed} failed, mean ${fmt(mean)} ms${extra}`));
  });
}

// -- a turn: one time axis for its timeline and waterfall -----------------------------------

const PLOT = { width: 1000, left: 220, right: 10 };

function lane(name) {
  const entry = LANES.find(([event]) => event === name);
  return entry ? [entry[1], entry[2]] : ["other", "#757575"];
}

function eventSummary(event) {
  const keys = SUMMARY[event.name] || Object.keys(event.attributes).filter((k) => !SKIP.has(k));
  return keys.filter((k) => k in event.attributes)
    .map((k) => `${k}=${short(event.attributes[k], k === "prompt" || k === "output" ? 80 : 40)}`).join(" ");
}

function eventStart(event) { return event.time - num(event.attributes.duration_ms) * 1e6; }

// The turn's axis: its origin (the earliest start of an event or span), its length, and the
// range shown (zoomed and panned), all in ms; both charts of the turn draw through it.
function turnAxis(turn, body) {
  const starts = [turn.start, ...body.events.map(eventStart), ...body.spans.map((s) => s.start)];
  const ends = [turn.end, ...body.events.map((e) => e.time), ...body.spans.map((s) => s.end)];
  const origin = Math.min(...starts);
  const total = Math.max(millis(Math.max(...ends), origin), 1);
  const [from, to] = zooms.get(turn.key) || [0, total];
  const scale = (PLOT.width - PLOT.left - PLOT.right) / (to - from);
  return {
    origin, total, from, to,
    x: (nanos) => PLOT.left + (millis(nanos, origin) - from) * scale,
  };
}

function niceStep(range) {
  const raw = range / 6, power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((step) => step >= raw) || power * 10;
}

function ticks(root, axis, y0, y1) {
  const step = niceStep(axis.to - axis.from);
  const group = svg("g", { class: "ticks" });
  for (let t = Math.ceil(axis.from / step) * step; t <= axis.to + 1e-9; t += step) {
    const x = PLOT.left + ((t - axis.from) / (axis.to - axis.from)) * (PLOT.width - PLOT.left - PLOT.right);
    group.appendChild(svg("line", { x1: x, x2: x, y1: y0, y2: y1, class: "tick" }));
    group.appendChild(svg("text", { x, y: y1 + 11, "text-anchor": "middle", class: "tick-label" }, tickLabel(t)));
  }
  root.appendChild(group);
}

function tickLabel(ms) {
  // Exact to the step (a tick at 1250 ms reads "1.25 s", not a rounded "1.3k").
  const rounded = Math.round(ms * 1000) / 1000;
  return rounded >= 1000 ? `${Math.round(rounded) / 1000} s` : `${rounded} ms`;
}

let clipIds = 0;

function plotArea(root, height) {
  // What the zoom leaves outside the plot is clipped, not drawn over the labels.
  const id = `clip-${++clipIds}`;
  const clip = svg("clipPath", { id });
  clip.appendChild(svg("rect", { x: PLOT.left, y: 0, width: PLOT.width - PLOT.left - PLOT.right, height }));
  root.appendChild(clip);
  const group = svg("g", { "clip-path": `url(#${id})` });
  root.appendChild(group);
  return group;
}

function drawTimeline(turn, body, axis) {
  const laneHeight = 22, top = 4, height = top + LANE_NAMES.length * laneHeight;
  const root = svg("svg", { class: "timeline", viewBox: `0 0 ${PLOT.width} ${height + 16}` });
  LANE_NAMES.forEach((name, i) => {
    root.appendChild(svg("text", { x: 2, y: top + i * laneHeight + 15 }, name));
    root.appendChild(svg("line", { x1: PLOT.left, x2: PLOT.width - PLOT.right, y1: top + (i + 1) * laneHeight,
      y2: top + (i + 1) * laneHeight, stroke: "#eee" }));
  });
  ticks(root, axis, top, height);
  const plot = plotArea(root, height);
  body.events.forEach((event, index) => {
    const [laneName, color] = lane(event.name);
    const y = top + LANE_NAMES.indexOf(laneName) * laneHeight + 4;
    const duration = num(event.attributes.duration_ms);
    const fill = event.error ? "#c62828" : color;
    const shape = duration > 0
      ? svg("rect", { x: axis.x(eventStart(event)), y, height: laneHeight - 8, fill,
          width: Math.max(3, axis.x(event.time) - axis.x(eventStart(event))) })
      : svg("circle", { cx: axis.x(event.time), cy: y + (laneHeight - 8) / 2, r: 5, fill });
    shape.setAttribute("class", "mark" + (event.error ? " error" : ""));
    shape.setAttribute("data-index", index);
    shape.setAttribute("data-seq", event.seq);
    shape.appendChild(svg("title", {}, `${event.name} ${eventSummary(event)}`));
    shape.addEventListener("click", () => showDetail("event", event.seq));
    plot.appendChild(shape);
  });
  return root;
}

// Spans as a tree in start order; a span's children are hidden while it is folded.
function spanRows(turn, body) {
  const spans = [...body.spans].sort((a, b) => a.start - b.start);
  const ids = new Set(spans.map((s) => s.span_id));
  const children = new Map();
  const roots = [];
  for (const span of spans) {
    if (span.parent_span_id && ids.has(span.parent_span_id)) {
      if (!children.has(span.parent_span_id)) children.set(span.parent_span_id, []);
      children.get(span.parent_span_id).push(span);
    } else roots.push(span);
  }
  const failing = new Set();
  // A span failed, or a failure was recorded in it (a tool call's span whose result failed).
  const failedIn = new Set(body.events.filter((e) => e.error && e.span_id).map((e) => e.span_id));
  const markFailing = (span) => {
    let bad = span.error || failedIn.has(span.span_id);
    for (const child of children.get(span.span_id) || []) bad = markFailing(child) || bad;
    if (bad) failing.add(span.span_id);
    return bad;
  };
  roots.forEach(markFailing);
  if (!folds.has(turn.key)) folds.set(turn.key, new Map());
  const folded = folds.get(turn.key);
  const long = spans.length > LONG_WATERFALL;
  const rows = [];
  const walk = (span, depth, guard) => {
    if (guard > 64) return;
    const kids = children.get(span.span_id) || [];
    const closed = folded.has(span.span_id) ? folded.get(span.span_id)
      : long && depth >= 1 && kids.length > 0 && !failing.has(span.span_id);
    rows.push({ span, depth, kids: kids.length, closed });
    if (!closed) siblings(kids, depth + 1, `all ${span.span_id}`, guard + 1);
  };
  // Many siblings (a thousand tool calls of one turn): the failing ones, the first and the
  // last few, and a row standing for the rest, until it is clicked.
  const siblings = (spans, depth, key, guard) => {
    if (spans.length <= MANY_SIBLINGS || folded.get(key) === false) {
      for (const span of spans) walk(span, depth, guard);
      return;
    }
    const shown = spans.filter((s, i) => i < SIBLINGS_SHOWN || i >= spans.length - SIBLINGS_SHOWN || failing.has(s.span_id));
    let hidden = 0;
    spans.forEach((span, i) => {
      if (shown.includes(span)) {
        if (hidden) rows.push({ more: hidden, depth, key });
        hidden = 0;
        walk(span, depth, guard);
      } else hidden++;
      if (i === spans.length - 1 && hidden) rows.push({ more: hidden, depth, key });
    });
  };
  siblings(roots, 0, "all roots", 0);
  return { rows, total: spans.length };
}

function drawWaterfall(turn, body, axis, rerender) {
  const { rows, total } = spanRows(turn, body);
  const row = 20;
  const height = rows.length * row + 4;
  const root = svg("svg", { class: "waterfall", viewBox: `0 0 ${PLOT.width} ${height + 16}`,
    "data-rows": rows.length, "data-spans": total });
  ticks(root, axis, 0, height);
  const plot = plotArea(root, height);
  const pinned = new Map();
  for (const event of body.events) {
    if (!event.span_id) continue;
    if (!pinned.has(event.span_id)) pinned.set(event.span_id, []);
    pinned.get(event.span_id).push(event);
  }
  rows.forEach(({ span, depth, kids, closed, more, key }, i) => {
    const y = i * row + 2;
    const indent = 4 + depth * 12;
    if (more) {
      const rest = svg("text", { x: indent + 12, y: y + 13, class: "more-spans", "data-more": more },
        `… ${plural(more, "more span")} (show)`);
      rest.addEventListener("click", () => { folds.get(turn.key).set(key, false); rerender(); });
      root.appendChild(rest);
      return;
    }
    if (kids) {
      const toggle = svg("text", { x: indent, y: y + 13, class: "fold", "data-span": span.name,
        "data-span-id": span.span_id }, closed ? "▸" : "▾");
      toggle.appendChild(svg("title", {}, closed ? `show ${plural(kids, "child span")}` : "fold"));
      toggle.addEventListener("click", () => { folds.get(turn.key).set(span.span_id, !closed); rerender(); });
      root.appendChild(toggle);
    }
    const label = svg("text", { x: indent + 12, y: y + 13, class: "span-label" }, short(span.name, 28));
    label.addEventListener("click", () => showDetail("span", span.span_id));
    root.appendChild(label);
    const bar = svg("rect", { x: axis.x(span.start), y, height: row - 6, class: "span-bar" + (span.error ? " error" : ""),
      width: Math.max(2, axis.x(span.end) - axis.x(span.start)), fill: span.error ? "#c62828" : "#26a69a",
      "data-span": span.name, "data-span-id": span.span_id });
    bar.appendChild(svg("title", {}, `${span.name}: ${fmt(millis(span.end, span.start))} ms ${span.status_message || ""}`));
    bar.addEventListener("click", () => showDetail("span", span.span_id));
    plot.appendChild(bar);
    for (const event of pinned.get(span.span_id) || []) {
      const x = axis.x(event.time);
      const mark = svg("path", { d: `M ${x} ${y - 1} l 4 8 l -4 8 l -4 -8 z`,
        fill: event.error ? "#c62828" : "#37474f", class: "pin", "data-seq": event.seq });
      mark.appendChild(svg("title", {}, event.name));
      mark.addEventListener("click", () => showDetail("event", event.seq));
      plot.appendChild(mark);
    }
  });
  return root;
}

function zoomBy(turn, axis, factor, center) {
  const width = (axis.to - axis.from) * factor;
  const middle = center === undefined ? (axis.from + axis.to) / 2 : center;
  let from = Math.max(0, middle - width / 2);
  let to = Math.min(axis.total, from + width);
  from = Math.max(0, to - width);
  if (to - from >= axis.total - 1e-9) zooms.delete(turn.key);
  else zooms.set(turn.key, [from, to]);
}

function panBy(turn, axis, fraction) {
  const width = axis.to - axis.from;
  const from = Math.min(Math.max(0, axis.from + width * fraction), axis.total - width);
  zooms.set(turn.key, [from, from + width]);
}

function axisControls(turn, axis, rerender) {
  const bar = el("div", { class: "axis-controls" });
  const button = (label, title, action) => {
    const node = el("button", { type: "button", title, "data-action": title }, label);
    node.addEventListener("click", () => { action(); rerender(); });
    bar.appendChild(node);
  };
  button("−", "zoom out", () => zoomBy(turn, axis, 2));
  button("+", "zoom in", () => zoomBy(turn, axis, 0.5));
  button("←", "pan left", () => panBy(turn, axis, -0.5));
  button("→", "pan right", () => panBy(turn, axis, 0.5));
  button("reset", "reset zoom", () => zooms.delete(turn.key));
  bar.appendChild(el("span", { class: "axis-range" },
    `showing ${fmt(axis.from)} to ${fmt(axis.to)} ms of ${fmt(axis.total)} ms`));
  return bar;
}

function wheelZoom(node, turn, axis, rerender) {
  node.addEventListener("wheel", (event) => {
    if (!event.ctrlKey && !event.altKey) return;  // plain scrolling scrolls the page
    event.preventDefault();
    const box = node.getBoundingClientRect();
    const fraction = ((event.clientX - box.left) / box.width * PLOT.width - PLOT.left) / (PLOT.width - PLOT.left - PLOT.right);
    zoomBy(turn, axis, event.deltaY > 0 ? 1.5 : 1 / 1.5, axis.from + fraction * (axis.to - axis.from));
    rerender();
  }, { passive: false });
  let dragging = null;
  node.addEventListener("mousedown", (event) => { dragging = event.clientX; });
  node.addEventListener("mouseup", (event) => {
    if (dragging === null) return;
    const moved = (event.clientX - dragging) / node.getBoundingClientRect().width;
    dragging = null;
    if (Math.abs(moved) > 0.02 && zooms.has(turn.key)) { panBy(turn, axis, -moved * PLOT.width / (PLOT.width - PLOT.left - PLOT.right)); rerender(); }
  });
}

function isOpen(turn, index, turns) {
  if (userOpen.has(turn.key)) return userOpen.get(turn.key);
  if (index === turns.length - 1) return true;
  const failing = turns.filter((t) => t.errors).slice(-DEFAULT_OPEN_ERROR_TURNS);
  return failing.includes(turn);
}

function renderTurnBody(section, turn, body) {
  for (const node of [...section.querySelectorAll(".turn-body")]) node.remove();
  const holder = el("div", { class: "turn-body" });
  section.appendChild(holder);
  const rerender = () => renderTurnBody(section, turn, body);
  const axis = turnAxis(turn, body);
  if (body.events.length || body.spans.length) holder.appendChild(axisControls(turn, axis, rerender));
  if (body.events.length) {
    const timeline = drawTimeline(turn, body, axis);
    wheelZoom(timeline, turn, axis, rerender);
    holder.appendChild(timeline);
  }
  if (body.spans.length) {
    const waterfall = drawWaterfall(turn, body, axis, rerender);
    wheelZoom(waterfall, turn, axis, rerender);
    holder.appendChild(waterfall);
  }
  const list = el("ol", { class: "events" });
  for (const event of body.events) {
    const item = el("li", { "data-name": event.name, "data-seq": event.seq, tabindex: "0" });
    if (event.error) item.classList.add("error");
    item.appendChild(el("span", { class: "at" }, `+${fmt(millis(event.time, turn.start))} ms`));
    item.appendChild(el("span", { class: "name" }, event.name));
    item.appendChild(document.createTextNode(" " + eventSummary(event)));
    item.addEventListener("click", () => showDetail("event", event.seq));
    list.appendChild(item);
  }
  holder.appendChild(list);
  if (body.hidden_events) {
    holder.appendChild(el("p", { class: "hint" },
      `${body.hidden_events} more events of this turn are not shown (its failures and newest ` +
      `${body.events.length} are); the search and filters narrow it.`));
  }
}

function renderTurn(turn, index, turns) {
  const open = isOpen(turn, index, turns);
  const section = el("section", { class: "turn", "data-turn": turn.index, "data-key": turn.key });
  if (turn.errors) section.classList.add("has-errors");
  if (open) section.classList.add("open");
  const heading = el("h3", { class: "turn-head", tabindex: "0" });
  heading.appendChild(el("span", { class: "fold-turn" }, open ? "▾ " : "▸ "));
  heading.appendChild(document.createTextNode(
    turn.prompt === null ? `Turn ${turn.index}: before the first prompt` : `Turn ${turn.index}: `));
  if (turn.prompt !== null) heading.appendChild(el("span", { class: "prompt" }, short(turn.prompt, 200)));
  heading.addEventListener("click", () => toggleTurn(turn, !open));
  section.appendChild(heading);
  const t = turn.tokens;
  section.appendChild(el("div", { class: "summary" },
    `${turn.event_count} events · ${turn.span_count} spans · ${fmt(millis(turn.end, turn.start))} ms · tokens in ${t.input} ` +
    `(cached ${t.cached}), out ${t.output} (reasoning ${t.reasoning})` + (turn.errors ? ` · ${plural(turn.errors, "error")}` : "")));
  const body = bodies.get(turn.key);
  if (open && body) renderTurnBody(section, turn, body);
  return section;
}

async function toggleTurn(turn, open) {
  userOpen.set(turn.key, open);
  if (open && !bodies.has(turn.key)) await fetchConversation(-1, [turn.key]);
  renderMain();
}

// -- the detail panel ---------------------------------------------------------------------

async function showDetail(kind, id) {
  const params = new URLSearchParams({ kind, id: String(id) });
  const item = await getJson("/api/item", params);
  const panel = document.getElementById("detail");
  panel.hidden = false;
  detail = item;
  document.getElementById("detail-title").textContent = item
    ? `${kind === "span" ? "Span" : "Event"} ${item.name}` : "no longer held (dropped for the cap)";
  const rows = clear(document.querySelector("#detail-attributes tbody"));
  document.getElementById("detail-meta").textContent = !item ? "" : kind === "span"
    ? `${fmt(millis(item.end, item.start))} ms · status ${item.error ? "ERROR" : "ok"} ${item.status_message || ""} · ` +
      `scope ${item.scope || "?"} · trace ${item.trace_id} · span ${item.span_id}`
    : `${clock(item.time)} · ${item.error ? "failed · " : ""}scope ${item.scope || "?"} · trace ${item.trace_id || "-"} · span ${item.span_id || "-"}`;
  if (!item) return;
  for (const key of Object.keys(item.attributes).sort()) {
    const value = item.attributes[key];
    const row = el("tr", { "data-key": key });
    row.appendChild(el("th", {}, key));
    const cell = el("td");
    cell.appendChild(el("pre", {}, typeof value === "string" ? value : JSON.stringify(value, null, 1)));
    row.appendChild(cell);
    rows.appendChild(row);
  }
  document.getElementById("detail-json").value = JSON.stringify(item, null, 1);
}

async function copyDetail() {
  const text = document.getElementById("detail-json").value;
  const button = document.getElementById("detail-copy");
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch (error) {
    // No clipboard permission: the JSON is shown selected, for Ctrl-C.
    const area = document.getElementById("detail-json");
    area.hidden = false;
    area.select();
    button.textContent = "Selected: Ctrl-C copies";
  }
  setTimeout(() => { button.textContent = "Copy JSON"; }, 2000);
}

// -- the whole page -----------------------------------------------------------------------

function renderMain() {
  const summary = state.conversations.find((c) => c.id === selected) || null;
  document.getElementById("conversation-title").textContent = summary
    ? `Conversation ${summary.id}` + (summary.model ? ` · ${summary.model}` : "") : "";
  document.getElementById("conv-charts").hidden = !conversation;
  const turns = clear(document.getElementById("turns"));
  if (conversation) {
    drawTokens(conversation.turns);
    drawDistribution("conv-charts", "api_latency", conversation.charts.api_latency);
    drawDistribution("conv-charts", "sse_wait", conversation.charts.sse_wait);
    drawTools("conv-charts", conversation.charts.tools, {});
    conversation.turns.forEach((turn, i) => turns.appendChild(renderTurn(turn, i, conversation.turns)));
  }
  document.getElementById("session-title").textContent =
    `Whole session: ${plural(state.conversations.length, "conversation")}`;
  drawDistribution("session-charts", "api_latency", state.charts.api_latency);
  drawDistribution("session-charts", "sse_wait", state.charts.sse_wait);
  drawTools("session-charts", state.charts.tools, state.charts.tool_metrics);
  document.body.dataset.version = String(state.version);
}

async function fetchConversation(since, keys) {
  const params = filterQuery();
  params.set("id", selected);
  params.set("since", String(since));
  for (const key of keys) params.append("open", key);
  const data = await getJson("/api/conversation", params);
  if (data === null) { forgetConversation(); return; }
  const known = new Set(data.turns.map((t) => t.key));
  for (const key of [...bodies.keys()]) if (!known.has(key)) bodies.delete(key);
  for (const turn of data.turns) {
    if (turn.events) bodies.set(turn.key, { events: turn.events, spans: turn.spans, hidden_events: turn.hidden_events });
  }
  conversation = data;
  conversationId = data.id;
}

// The shown conversation brought up to date: its headers, and the open turns that changed
// (a turn opened since, or new, is fetched whole).
async function refresh() {
  const summary = state && state.conversations.find((c) => c.id === selected);
  if (!summary) { forgetConversation(); renderMain(); return; }
  const fresh = conversationId !== selected || !conversation;
  if (fresh) {
    forgetConversation();
    await fetchConversation(-1, []);
  } else if (summary.version <= conversationVersion) {
    renderMain();
    return;
  }
  if (conversation) {
    const turns = conversation.turns;
    const open = turns.filter((t, i) => isOpen(t, i, turns)).map((t) => t.key);
    const have = open.filter((key) => bodies.has(key));
    if (!fresh) await fetchConversation(conversationVersion, have);
    const missing = open.filter((key) => !bodies.has(key));
    if (missing.length) await fetchConversation(-1, missing);
  }
  conversationVersion = conversation ? conversation.version : -1;
  renderMain();
}

async function poll() {
  const live = document.getElementById("live");
  try {
    const params = filterQuery();
    params.set("since", version);
    const data = await getJson("/api/state", params);
    if (!data.unchanged) {
      state = data;
      version = String(data.version);
      renderHeader();
      renderConversations();
      await refresh();
    }
    if (state && state.failure) {
      live.textContent = `not live: ${state.failure}`;
      live.classList.add("stale");
    } else {
      live.textContent = `live · checked ${new Date().toLocaleTimeString([], { hour12: false })}`;
      live.classList.remove("stale");
    }
  } catch (error) {
    live.textContent = "viewer stopped? retrying…";
    live.classList.add("stale");
  }
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, POLL_MS);
}

let pollTimer = null;
let searchTimer = null;

function setFilter(change) {
  filter = { ...filter, ...change };
  version = "";
  forgetConversation();
  poll();
}

document.getElementById("search").addEventListener("input", (event) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => setFilter({ q: event.target.value.trim() }), 300);
});
document.getElementById("errors-only").addEventListener("change", (event) => setFilter({ errors: event.target.checked }));
document.getElementById("tool-filter").addEventListener("change", (event) => setFilter({ tool: event.target.value }));
document.getElementById("model-filter").addEventListener("change", (event) => setFilter({ model: event.target.value }));
document.getElementById("detail-close").addEventListener("click", () => { document.getElementById("detail").hidden = true; });
document.getElementById("detail-copy").addEventListener("click", copyDetail);

poll();
