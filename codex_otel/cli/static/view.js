// codex-otel view: polls /api/state and draws conversations, turns, timelines, waterfalls and
// charts as plain SVG. Every value is put on the page as text (textContent), never as markup:
// what was exported is what is shown, a redacted prompt included.
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
  ["codex.sse_event", "stream", "#6a1b9a"],
  ["codex.tool_decision", "tools", "#ef6c00"],
  ["codex.tool_result", "tools", "#ef6c00"],
];
const LANE_NAMES = ["prompt", "requests", "stream", "tools", "other"];
// The fields worth a glance per event; the rest is in the tooltip.
const SUMMARY = {
  "codex.conversation_starts": ["provider_name", "reasoning_effort", "approval_policy", "sandbox_policy", "mcp_servers"],
  "codex.api_request": ["attempt", "http.response.status_code", "duration_ms", "error.message"],
  "codex.sse_event": ["event.kind", "duration_ms", "input_token_count", "cached_token_count", "output_token_count", "reasoning_token_count", "error.message"],
  "codex.user_prompt": ["prompt_length", "prompt"],
  "codex.tool_decision": ["tool_name", "call_id", "decision", "source"],
  "codex.tool_result": ["tool_name", "call_id", "success", "duration_ms", "arguments", "output"],
};
const COMMON = new Set(["event.name", "event.timestamp", "conversation.id", "app.version", "auth_mode",
  "user.account_id", "terminal.type", "model", "slug"]);

let version = "";
let selected = null;
let state = null;

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

function fmt(n) {
  if (n >= 10000) return (n / 1000).toFixed(0) + "k";
  if (n >= 1000) return (n / 1000).toFixed(1) + "k";
  return String(Math.round(n * 10) / 10);
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
}

// -- conversations ------------------------------------------------------------------------

function renderConversations() {
  const list = clear(document.getElementById("conversations"));
  document.getElementById("empty").hidden = state.conversations.length > 0;
  if (!state.conversations.some((c) => c.id === selected)) {
    const last = state.conversations[state.conversations.length - 1];
    selected = last ? last.id : null;
  }
  for (const conversation of state.conversations) {
    const item = el("li", { "data-id": conversation.id });
    if (conversation.id === selected) item.classList.add("selected");
    item.appendChild(el("span", { class: "id" }, conversation.id));
    item.appendChild(document.createTextNode(" "));
    if (conversation.errors) item.appendChild(el("span", { class: "badge" }, plural(conversation.errors, "error")));
    item.appendChild(el("span", { class: "meta" },
      `${conversation.model || ""} · ${conversation.turns.length} turns · ${conversation.events} events · ${clock(conversation.start)}`));
    item.addEventListener("click", () => { selected = conversation.id; render(); });
    list.appendChild(item);
  }
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
    root.appendChild(svg("text", { x: left + index * slot + slot / 2, y: height - bottom + 13,
      "text-anchor": "middle" }, group.label));
  });
}

function chart(name) {
  const root = document.querySelector(`figure[data-chart="${name}"] svg`);
  return clear(root);
}

function drawTokens(conversation) {
  const root = chart("tokens");
  const series = ["input", "cached", "output", "reasoning"];
  const turns = conversation ? conversation.turns.filter((t) => t.prompt !== null || t.tokens.input) : [];
  const groups = turns.map((turn) => ({ label: `turn ${turn.index}`, values: turn.tokens }));
  const max = Math.max(1, ...groups.flatMap((g) => series.map((s) => g.values[s] || 0)));
  axes(root, max, "from the events of this conversation (response.completed usage)");
  legend(root, series);
  bars(root, groups, series, max);
}

function drawDistribution(name, data) {
  const root = chart(name);
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

function drawTools(tools, toolMetrics) {
  const root = chart("tools");
  const { width, height, left, right, top } = CHART;
  root.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const names = Object.keys(tools).sort();
  const hasMetrics = Object.keys(toolMetrics).length > 0;
  root.appendChild(svg("text", { x: 2, y: height - 3, class: "source" },
    hasMetrics ? "bars: events; in brackets: calls counted by the metrics" : "from the events"));
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

// -- a turn: timeline, waterfall, events ------------------------------------------------

function lane(name) {
  const entry = LANES.find(([event]) => event === name);
  return entry ? [entry[1], entry[2]] : ["other", "#757575"];
}

function eventSummary(event) {
  const keys = SUMMARY[event.name] || Object.keys(event.attributes).filter((k) => !COMMON.has(k));
  return keys.filter((k) => k in event.attributes)
    .map((k) => `${k}=${short(event.attributes[k], k === "prompt" || k === "output" ? 80 : 40)}`).join(" ");
}

function drawTimeline(turn) {
  const width = 1000, laneHeight = 22, top = 4, left = 70;
  const root = svg("svg", { class: "timeline", viewBox: `0 0 ${width} ${top + LANE_NAMES.length * laneHeight + 18}` });
  const starts = turn.events.map((e) => e.time - (Number(e.attributes.duration_ms) || 0) * 1e6);
  const origin = Math.min(turn.start, ...starts);
  const span = Math.max(millis(turn.end, origin), 1);
  const x = (nanos) => left + (millis(nanos, origin) / span) * (width - left - 10);
  LANE_NAMES.forEach((name, i) => {
    root.appendChild(svg("text", { x: 2, y: top + i * laneHeight + 15 }, name));
    root.appendChild(svg("line", { x1: left, x2: width - 10, y1: top + (i + 1) * laneHeight,
      y2: top + (i + 1) * laneHeight, stroke: "#eee" }));
  });
  turn.events.forEach((event, index) => {
    const [laneName, color] = lane(event.name);
    const y = top + LANE_NAMES.indexOf(laneName) * laneHeight + 4;
    const duration = Number(event.attributes.duration_ms) || 0;
    const fill = event.error ? "#c62828" : color;
    const shape = duration > 0
      ? svg("rect", { x: x(event.time - duration * 1e6), y, height: laneHeight - 8, fill,
          width: Math.max(3, x(event.time) - x(event.time - duration * 1e6)) })
      : svg("circle", { cx: x(event.time), cy: y + (laneHeight - 8) / 2, r: 5, fill });
    shape.setAttribute("class", "mark" + (event.error ? " error" : ""));
    shape.setAttribute("data-index", index);
    shape.appendChild(svg("title", {}, `${event.name} ${eventSummary(event)}`));
    root.appendChild(shape);
  });
  root.appendChild(svg("text", { x: left, y: top + LANE_NAMES.length * laneHeight + 14 }, "0 ms"));
  root.appendChild(svg("text", { x: width - 10, y: top + LANE_NAMES.length * laneHeight + 14,
    "text-anchor": "end" }, `${fmt(span)} ms`));
  return root;
}

function drawWaterfall(turn) {
  // Rows in start order, indented by depth; each event pinned to its span's row.
  const spans = [...turn.spans].sort((a, b) => a.start - b.start);
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const depth = (s) => { let d = 0, p = byId.get(s.parent_span_id); while (p && d < 32) { d++; p = byId.get(p.parent_span_id); } return d; };
  const width = 1000, row = 20, left = 220;
  const root = svg("svg", { class: "waterfall", viewBox: `0 0 ${width} ${spans.length * row + 20}` });
  const origin = Math.min(...spans.map((s) => s.start));
  const total = Math.max(millis(Math.max(...spans.map((s) => s.end)), origin), 1);
  const x = (nanos) => left + (millis(nanos, origin) / total) * (width - left - 10);
  spans.forEach((span, i) => {
    const y = i * row + 2;
    root.appendChild(svg("text", { x: 4 + depth(span) * 12, y: y + 13 }, short(span.name, 30)));
    const bar = svg("rect", { x: x(span.start), y, height: row - 6, class: "span-bar" + (span.error ? " error" : ""),
      width: Math.max(2, x(span.end) - x(span.start)), fill: span.error ? "#c62828" : "#26a69a",
      "data-span": span.name });
    bar.appendChild(svg("title", {}, `${span.name}: ${fmt(millis(span.end, span.start))} ms ${span.status_message || ""}`));
    root.appendChild(bar);
    for (const event of turn.events.filter((e) => e.span_id && e.span_id === span.span_id)) {
      const mark = svg("path", { d: `M ${x(event.time)} ${y - 1} l 4 8 l -4 8 l -4 -8 z`,
        fill: event.error ? "#c62828" : "#37474f", class: "pin" });
      mark.appendChild(svg("title", {}, event.name));
      root.appendChild(mark);
    }
  });
  root.appendChild(svg("text", { x: width - 10, y: spans.length * row + 14, "text-anchor": "end" }, `${fmt(total)} ms`));
  return root;
}

function renderTurn(turn) {
  const section = el("section", { class: "turn", "data-turn": turn.index });
  if (turn.errors) section.classList.add("has-errors");
  const heading = el("h3", {}, turn.prompt === null ? `Turn ${turn.index}: before the first prompt ` : `Turn ${turn.index}: `);
  if (turn.prompt !== null) heading.appendChild(el("span", { class: "prompt" }, short(turn.prompt, 200)));
  section.appendChild(heading);
  const t = turn.tokens;
  section.appendChild(el("div", { class: "summary" },
    `${turn.events.length} events · ${fmt(millis(turn.end, turn.start))} ms · tokens in ${t.input} ` +
    `(cached ${t.cached}), out ${t.output} (reasoning ${t.reasoning})` + (turn.errors ? ` · ${plural(turn.errors, "error")}` : "")));
  if (turn.events.length) section.appendChild(drawTimeline(turn));
  if (turn.spans.length) section.appendChild(drawWaterfall(turn));
  const list = el("ol", { class: "events" });
  for (const event of turn.events) {
    const item = el("li", { "data-name": event.name });
    if (event.error) item.classList.add("error");
    item.appendChild(el("span", { class: "at" }, `+${fmt(millis(event.time, turn.start))} ms`));
    item.appendChild(el("span", { class: "name" }, event.name));
    item.appendChild(document.createTextNode(" " + eventSummary(event)));
    item.title = JSON.stringify(event.attributes, null, 1);
    list.appendChild(item);
  }
  section.appendChild(list);
  return section;
}

// -- the whole page -----------------------------------------------------------------------

function render() {
  renderHeader();
  renderConversations();
  const conversation = state.conversations.find((c) => c.id === selected) || null;
  document.getElementById("conversation-title").textContent = conversation
    ? `Conversation ${conversation.id}` + (conversation.model ? ` · ${conversation.model}` : "")
    : "";
  drawTokens(conversation);
  drawDistribution("api_latency", state.charts.api_latency);
  drawDistribution("sse_wait", state.charts.sse_wait);
  drawTools(state.charts.tools, state.charts.tool_metrics);
  const turns = clear(document.getElementById("turns"));
  if (conversation) for (const turn of conversation.turns) turns.appendChild(renderTurn(turn));
  document.body.dataset.version = String(state.version);
}

async function poll() {
  const live = document.getElementById("live");
  try {
    const response = await fetch(`/api/state?since=${version}`, { cache: "no-store" });
    const data = await response.json();
    if (!data.unchanged) {
      state = data;
      version = String(data.version);
      render();
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
  setTimeout(poll, POLL_MS);
}

poll();
