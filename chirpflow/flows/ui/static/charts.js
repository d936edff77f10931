// Small inline-SVG charts (no library): bars, stacked bars, horizontal bars.
// Labels are set with textContent, never parsed as HTML.
"use strict";
const SVG = "http://www.w3.org/2000/svg";

function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function frame(box) {
  box.replaceChildren();
  const svg = svgEl("svg", { viewBox: "0 0 400 180", preserveAspectRatio: "none", role: "img" });
  box.appendChild(svg);
  return svg;
}

function empty(svg) {
  svg.appendChild(svgEl("text", { x: 200, y: 90, "text-anchor": "middle" }, "no data yet"));
}

// series: [[label, {key: n, ...}], ...]; colors: {key: css color}
function stackedBars(box, series, colors) {
  const svg = frame(box);
  if (!series.length) return empty(svg);
  const totals = series.map(([, parts]) => Object.values(parts).reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const w = 380 / series.length;
  series.forEach(([label, parts], i) => {
    let y = 165;
    for (const key of Object.keys(colors)) {
      const h = ((parts[key] || 0) / max) * 150;
      if (h <= 0) continue;
      y -= h;
      const r = svgEl("rect", { x: 10 + i * w, y, width: Math.max(1, w - 1), height: h, fill: colors[key] });
      r.appendChild(svgEl("title", {}, `${label} ${key}: ${parts[key]}`));
      svg.appendChild(r);
    }
  });
  svg.appendChild(svgEl("text", { x: 10, y: 178 }, series[0][0].slice(11, 16)));
  svg.appendChild(svgEl("text", { x: 390, y: 178, "text-anchor": "end" }, series[series.length - 1][0].slice(11, 16)));
  svg.appendChild(svgEl("text", { x: 10, y: 10 }, `max ${max.toLocaleString("en-US")}`));
}

function bars(box, points, color) {
  stackedBars(box, points.map(([label, n]) => [label, { n }]), { n: color });
}

function hbars(box, items, color) {
  const svg = frame(box);
  if (!items.length) return empty(svg);
  const max = Math.max(1, ...items.map(([, n]) => n));
  const h = 170 / items.length;
  items.forEach(([label, n], i) => {
    const y = 5 + i * h;
    svg.appendChild(svgEl("text", { x: 118, y: y + h * 0.7, "text-anchor": "end" }, label.slice(0, 22)));
    svg.appendChild(svgEl("rect", { x: 122, y: y + 1, width: (n / max) * 240, height: Math.max(1, h - 3), fill: color }));
    svg.appendChild(svgEl("text", { x: 126 + (n / max) * 240, y: y + h * 0.7 }, n.toLocaleString("en-US")));
  });
}

window.charts = { bars, stackedBars, hbars };
