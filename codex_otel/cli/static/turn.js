// codex-otel view, a turn: one time axis (ticks, zoom, pan) for its timeline of events and its
// waterfall of spans (folded by level, long runs of siblings folded).
"use strict";

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

const zooms = new Map();     // turn key -> [from, to], ms from the turn's origin
const folds = new Map();     // turn key -> Map(span id -> collapsed?)

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
  return { rows, total: spans.length, failedIn, failing };
}

function drawWaterfall(turn, body, axis, rerender) {
  const { rows, total, failedIn, failing } = spanRows(turn, body);
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
    // Red: the span failed, or a failure was recorded in it (a tool call whose result failed,
    // its span's status unset). Outlined: a failure somewhere below it, folded away or not.
    const failed = span.error || failedIn.has(span.span_id);
    const below = !failed && failing.has(span.span_id);
    const bar = svg("rect", { x: axis.x(span.start), y, height: row - 6,
      class: "span-bar" + (failed ? " error" : below ? " has-failure" : ""),
      width: Math.max(2, axis.x(span.end) - axis.x(span.start)), fill: failed ? "#c62828" : "#26a69a",
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
