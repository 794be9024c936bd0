/**
 * The scaling benchmark's plot: three small line charts side by side (throughput, CPU per million lines,
 * peak RSS) against live series on a log axis, one line per workers × lines-per-packet combination.
 * Plain SVG text written by the benchmark itself; no dependency.
 *
 * @module
 */

/** One measured cell of the sweep, as the plot needs it. */
export interface PlotPoint {
  /** The live series (distinct names sent). */
  readonly series: number;
  /** The `--workers` value, as given (`0`, `1`, `auto`). */
  readonly workers: string;
  /** StatsD lines per datagram. */
  readonly linesPerPacket: number;
  /** Lines parsed per second. */
  readonly linesPerSecond: number;
  /** CPU seconds per million lines parsed. */
  readonly cpuPerMillionLines: number;
  /** Peak RSS, bytes. */
  readonly peakRssBytes: number;
}

interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly value: (p: PlotPoint) => number;
}

const PANELS: readonly Panel[] = [
  { title: "throughput", unit: "M lines/s", value: (p) => p.linesPerSecond / 1e6 },
  { title: "CPU per million lines", unit: "core-seconds", value: (p) => p.cpuPerMillionLines },
  { title: "peak RSS", unit: "MiB", value: (p) => p.peakRssBytes / 2 ** 20 },
];
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const WIDTH = 300;
const HEIGHT = 220;
const MARGIN = { left: 48, right: 12, top: 28, bottom: 36 };

/**
 * Draws the sweep.
 *
 * @param points The cells; cells without a figure (NaN) are left out.
 * @param caption A line under the charts (machine, date, load).
 * @returns The SVG document.
 */
export function plotScaling(points: readonly PlotPoint[], caption: string): string {
  const lines = [...new Set(points.map((p) => `${p.workers}|${p.linesPerPacket}`))];
  const seriesValues = [...new Set(points.map((p) => p.series))].sort((a, b) => a - b);
  const totalWidth = PANELS.length * WIDTH;
  const legendHeight = 18 * Math.ceil(lines.length / 3);
  const totalHeight = HEIGHT + legendHeight + 24;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalWidth}" height="${totalHeight}" ` +
    `viewBox="0 0 ${totalWidth} ${totalHeight}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  PANELS.forEach((panel, index) => {
    out.push(...drawPanel(panel, index * WIDTH, points, lines, seriesValues));
  });
  lines.forEach((line, i) => {
    const [workers, perPacket] = line.split("|");
    const x = 12 + (i % 3) * 300;
    const y = HEIGHT + 14 + Math.floor(i / 3) * 18;
    out.push(
      `<line x1="${x}" y1="${y - 4}" x2="${x + 18}" y2="${y - 4}" stroke="${color(i)}" stroke-width="2"/>`,
      `<text x="${x + 24}" y="${y}">workers ${escape(workers ?? "")}, ${perPacket} line(s)/packet</text>`,
    );
  });
  out.push(`<text x="12" y="${totalHeight - 6}" fill="#555">${escape(caption)}</text>`, "</svg>", "");
  return out.join("\n");
}

function drawPanel(
  panel: Panel,
  left: number,
  points: readonly PlotPoint[],
  lines: readonly string[],
  seriesValues: readonly number[],
): string[] {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const values = points.map(panel.value).filter(Number.isFinite);
  const top = niceMax(Math.max(0, ...values));
  const logMin = Math.log10(seriesValues[0] ?? 1);
  const logMax = Math.log10(seriesValues.at(-1) ?? 10);
  const xOf = (series: number): number =>
    left + MARGIN.left +
    (logMax === logMin ? plotW / 2 : (Math.log10(series) - logMin) / (logMax - logMin) * plotW);
  const yOf = (value: number): number => MARGIN.top + plotH - (top === 0 ? 0 : value / top * plotH);
  const out: string[] = [
    `<text x="${left + MARGIN.left}" y="16" font-weight="bold">${panel.title} (${panel.unit})</text>`,
    `<line x1="${left + MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${left + MARGIN.left + plotW}" ` +
    `y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${left + MARGIN.left}" y1="${MARGIN.top}" x2="${left + MARGIN.left}" y2="${
      MARGIN.top + plotH
    }" stroke="#333"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const value = top * i / 4;
    const y = yOf(value);
    out.push(
      `<line x1="${left + MARGIN.left}" y1="${y}" x2="${
        left + MARGIN.left + plotW
      }" y2="${y}" stroke="#eee"/>`,
      `<text x="${left + MARGIN.left - 4}" y="${y + 4}" text-anchor="end">${label(value, false)}</text>`,
    );
  }
  for (const series of seriesValues) {
    out.push(
      `<text x="${xOf(series)}" y="${MARGIN.top + plotH + 14}" text-anchor="middle">${
        label(series, true)
      }</text>`,
    );
  }
  out.push(
    `<text x="${left + MARGIN.left + plotW / 2}" y="${
      HEIGHT - 6
    }" text-anchor="middle">live series (log)</text>`,
  );
  lines.forEach((line, i) => {
    const mine = points
      .filter((p) => `${p.workers}|${p.linesPerPacket}` === line && Number.isFinite(panel.value(p)))
      .sort((a, b) => a.series - b.series);
    if (mine.length === 0) return;
    const path = mine.map((p) => `${xOf(p.series).toFixed(1)},${yOf(panel.value(p)).toFixed(1)}`).join(" ");
    out.push(`<polyline points="${path}" fill="none" stroke="${color(i)}" stroke-width="2"/>`);
    for (const p of mine) {
      out.push(
        `<circle cx="${xOf(p.series).toFixed(1)}" cy="${yOf(panel.value(p)).toFixed(1)}" r="3" fill="${
          color(i)
        }"/>`,
      );
    }
  });
  return out;
}

function color(i: number): string {
  return COLORS[i % COLORS.length]!;
}

/** The smallest 1, 2 or 5 × 10^k at or above `value`. */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function label(value: number, thousands: boolean): string {
  if (thousands && value >= 1000) return `${value / 1000}k`;
  return Number.isInteger(value) ? String(value) : value.toPrecision(2);
}

function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
