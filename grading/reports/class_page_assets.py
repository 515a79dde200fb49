"""The class page's style sheet and script, inline (the page is one file that works offline)."""

from __future__ import annotations


STYLE = """
:root { --passed:#2e7d32; --flagged:#7b1fa2; --failed:#e65100; --error:#c62828; --not_started:#b0b7c3;
  --ink:#1d2330; --muted:#5b6474; --line:#dde1e8; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 24px 28px 48px; color: var(--ink); background: #fff;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
h1 { font-size: 26px; margin: 0 0 2px; } h2 { font-size: 19px; margin: 32px 0 8px;
  border-bottom: 2px solid var(--line); padding-bottom: 4px; } h3 { font-size: 16px; margin: 18px 0 2px; }
.sub, .note, .more, .empty, .legend { color: var(--muted); } .note { margin: 0 0 6px; font-size: 14px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0 4px; padding: 0; list-style: none; }
.cards li { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px;
  min-width: 150px; } .cards b { display: block; font-size: 24px; } .cards span { color: var(--muted); font-size: 13px; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 28px; align-items: start; }
@media (max-width: 1000px) { .charts { grid-template-columns: 1fr; } }
.chart { width: 100%; max-width: 640px; height: auto; display: block; font-size: 12.5px; }
.chart .bin { fill: #3d6fb6; } .chart .grid { stroke: var(--line); } .chart .baseline { stroke: var(--muted); }
.chart .axis { fill: var(--muted); } .chart .value { fill: var(--ink); font-weight: 600; }
.chart .track { fill: var(--bg); stroke: var(--line); }
.seg.passed, .swatch.passed { fill: var(--passed); background: var(--passed); }
.seg.flagged, .swatch.flagged { fill: var(--flagged); background: var(--flagged); }
.seg.failed, .swatch.failed { fill: var(--failed); background: var(--failed); }
.seg.error, .swatch.error { fill: var(--error); background: var(--error); }
.seg.not_started, .swatch.not_started { fill: var(--not_started); background: var(--not_started); }
.legend { font-size: 13px; display: flex; flex-wrap: wrap; gap: 14px; margin: 6px 0 0; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
table.mistakes td.count { font-weight: 700; font-variant-numeric: tabular-nums; width: 6em; }
table.mistakes td.share { width: 11em; white-space: nowrap; } table.mistakes td.example { width: 12em; }
tr.mistake td { border-bottom: 0; padding-top: 8px; }
.meter { display: inline-block; width: 70px; height: 8px; background: var(--bg); border: 1px solid var(--line);
  border-radius: 4px; vertical-align: 0; overflow: hidden; } .meter span { display: block; height: 100%; background: var(--failed); }
code { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; background: var(--bg); padding: 0 3px; border-radius: 3px; }
code.id { color: var(--muted); font-size: 12px; background: none; }
.message { white-space: pre-wrap; overflow-wrap: anywhere; background: #fbfbfc; border-left: 3px solid var(--failed);
  padding: 6px 10px; font-size: 13.5px; color: #2b3240; }
tr.attention.error td:nth-child(3) { color: var(--error); font-weight: 600; }
tr.attention.flagged td:nth-child(3) { color: var(--flagged); font-weight: 600; }
.scroll { overflow-x: auto; }
table.students { font-size: 13px; } table.students th, table.students td { padding: 3px 4px; white-space: nowrap; }
table.students thead th { text-transform: none; font-size: 12px; letter-spacing: 0; }
table.students tbody th { font-weight: 600; max-width: 16em; overflow: hidden; text-overflow: ellipsis; }
table.students td.total { font-weight: 700; text-align: right; font-variant-numeric: tabular-nums; }
table.students td.st { text-align: center; font-weight: 700; width: 2.2em; }
td.st.passed { color: var(--passed); } td.st.flagged { color: var(--flagged); } td.st.failed { color: var(--failed); }
td.st.error { color: var(--error); } td.st.not_started, td.st.none { color: var(--not_started); }
table.students td.notes { color: var(--muted); white-space: normal; min-width: 12em; }
table.students tbody tr:nth-child(even) { background: #fafbfc; }
th button { all: unset; cursor: pointer; } th button::after { content: " \\2195"; opacity: .35; }
th[aria-sort=ascending] button::after { content: " \\25b2"; opacity: 1; }
th[aria-sort=descending] button::after { content: " \\25bc"; opacity: 1; }
th button:focus-visible { outline: 2px solid #3d6fb6; }
footer { margin-top: 36px; font-size: 12px; color: var(--muted); }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; } .charts > div, .exercise-mistakes, .cards, tr { break-inside: avoid; }
  .charts { grid-template-columns: 1fr 1fr; } .scroll { overflow: visible; }
  thead { display: table-header-group; } th button::after { content: none; }
  table.students { font-size: 8pt; } table.students td.notes { min-width: 0; }
}
"""

SCRIPT = """(function () {
  var table = document.getElementById("student-table");
  if (!table) return;
  var heads = table.tHead.rows[0].cells, body = table.tBodies[0];
  function key(row, i) {
    var cell = row.cells[i], value = cell.getAttribute("data-sort");
    return value === null ? cell.textContent.trim().toLowerCase() : value;
  }
  function sort(i, desc) {
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = rows.every(function (r) { var k = key(r, i); return k !== "" && !isNaN(k); });
    rows.sort(function (a, b) {
      var x = key(a, i), y = key(b, i);
      var d = numeric ? x - y : (x < y ? -1 : x > y ? 1 : 0);
      if (d === 0) { x = key(a, 0); y = key(b, 0); return x < y ? -1 : x > y ? 1 : 0; }
      return desc ? -d : d;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var j = 0; j < heads.length; j++) heads[j].removeAttribute("aria-sort");
    heads[i].setAttribute("aria-sort", desc ? "descending" : "ascending");
  }
  function byKey(name) {
    for (var i = 0; i < heads.length; i++) if (heads[i].getAttribute("data-key") === name) return i;
    return -1;
  }
  Array.prototype.forEach.call(heads, function (th, i) {
    var button = document.createElement("button");
    button.type = "button";
    button.title = "sort by this column";
    while (th.firstChild) button.appendChild(th.firstChild);
    th.appendChild(button);
    button.addEventListener("click", function () {
      var now = th.getAttribute("aria-sort");
      sort(i, now ? now === "ascending" : th.getAttribute("data-order") === "desc");
    });
  });
  var wanted = /^#sort=([\\w-]+?)(?:-(asc|desc))?$/.exec(location.hash);
  if (wanted && byKey(wanted[1]) >= 0) {
    var i = byKey(wanted[1]);
    sort(i, wanted[2] ? wanted[2] === "desc" : heads[i].getAttribute("data-order") === "desc");
  }
  table.setAttribute("data-sortable", "ready");
})();"""
