// klantreis dashboard: a little progressive enhancement over server-rendered pages.
// Data arrives as JSON in <script type="application/json"> tags and is only ever put into
// the page with textContent or drawn by ECharts (tooltips in richText mode: no HTML at all).
"use strict";

function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

function autosubmit() {
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
}

function funnelBuilder() {
  const list = document.getElementById("funnel-steps");
  const add = document.getElementById("add-step");
  if (!list || !add) return;
  add.hidden = false;
  add.addEventListener("click", () => {
    const rows = list.querySelectorAll(".step");
    const copy = rows[rows.length - 1].cloneNode(true);
    copy.querySelector("select").selectedIndex = 0;
    const label = copy.querySelector(".n");
    if (label) label.textContent = String(rows.length + 1);
    list.appendChild(copy);
  });
  list.addEventListener("click", (event) => {
    const button = event.target.closest(".remove-step");
    if (button && list.querySelectorAll(".step").length > 2) {
      button.closest(".step").remove();
      list.querySelectorAll(".step .n").forEach((n, i) => { n.textContent = String(i + 1); });
    }
  });
}

// Numbers on axes, bar labels and tooltips as the page's language writes them ("1.439" in
// Dutch and Danish, "1,439" in English), like the numbers the server puts in the tables.
function number(value) {
  if (typeof value !== "number") return value;
  return new Intl.NumberFormat(document.documentElement.lang || "en").format(value);
}

const TOOLTIP = { renderMode: "richText", confine: true, valueFormatter: number };

function sankeyOption(spec) {
  return {
    tooltip: { ...TOOLTIP, trigger: "item" },
    series: [{
      type: "sankey", data: spec.nodes, links: spec.links, emphasis: { focus: "adjacency" },
      nodeAlign: "left", lineStyle: { color: "gradient", curveness: 0.5 },
      label: { fontSize: 11 },
    }],
  };
}

function lineOption(spec) {
  return {
    tooltip: { ...TOOLTIP, trigger: "axis" },
    legend: { type: "scroll", top: 0 },
    grid: { left: 50, right: 20, top: 40, bottom: 40 },
    xAxis: { type: "category", data: spec.x },
    yAxis: { type: "value", name: spec.y_name || "", min: spec.y_min, max: spec.y_max,
      axisLabel: { formatter: number } },
    series: spec.series.map((s) => ({ type: "line", name: s.name, data: s.data, connectNulls: true })),
  };
}

function barOption(spec) {
  return {
    tooltip: { ...TOOLTIP, trigger: "axis" },
    legend: { type: "scroll", top: 0 },
    grid: { left: 160, right: 30, top: 40, bottom: 30 },
    xAxis: { type: "value", max: spec.x_max, axisLabel: { formatter: number } },
    yAxis: { type: "category", data: spec.categories, inverse: true },
    series: spec.series.map((s) => ({ type: "bar", name: s.name, data: s.data,
      label: { show: true, position: "right", formatter: (p) => number(p.value) } })),
  };
}

const BUILDERS = { sankey: sankeyOption, line: lineOption, bar: barOption };

function charts() {
  if (typeof echarts === "undefined") return;
  document.querySelectorAll(".chart[data-spec]").forEach((node) => {
    const spec = readJson(node.dataset.spec);
    const build = spec && BUILDERS[spec.kind];
    if (!build) return;
    const chart = echarts.init(node, null, { renderer: "canvas", locale: "EN" });
    chart.setOption({ animation: false, ...build(spec) });
    node.dataset.ready = "1";
    window.addEventListener("resize", () => chart.resize());
  });
}

document.addEventListener("DOMContentLoaded", () => {
  autosubmit();
  funnelBuilder();
  charts();
});
