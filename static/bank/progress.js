/* Batch progress (templates/bank/batch_detail.html).
 *
 * The page renders the batch's state server-side; while the batch is unfinished this script polls
 * the element's data-progress-url every second and updates the <progress> bar and the counters.
 * When the batch finishes the page reloads once so the server renders the result and the grouped
 * issues.  Closing and reopening the page simply starts polling again.  No inline script: the
 * element carries everything in data- attributes (Content-Security-Policy friendly).
 */
(function () {
  "use strict";

  var INTERVAL_MS = 1000;
  var MAX_FAILURES = 30;

  function text(root, name, value) {
    var nodes = root.querySelectorAll("[data-field='" + name + "']");
    for (var i = 0; i < nodes.length; i++) { nodes[i].textContent = value; }
  }

  function render(root, data) {
    var bar = root.querySelector("progress");
    if (bar) {
      bar.max = 100;
      bar.value = data.percent;
      bar.textContent = data.percent + "%";
    }
    text(root, "percent", data.percent + "%");
    text(root, "rows_done", data.rows_done);
    text(root, "rows_total", data.rows_total);
    text(root, "status_label", data.status_label);
    text(root, "error_count", data.error_count);
    text(root, "warning_count", data.warning_count);
    root.setAttribute("data-status", data.status);
    var badge = root.querySelector("[data-field='status_label']");
    if (badge) { badge.className = "badge status-" + data.status; }
  }

  function watch(root) {
    var url = root.getAttribute("data-progress-url");
    var failures = 0;
    var timer = null;

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          render(root, data);
          if (data.finished) {
            root.setAttribute("data-finished", "1");
            window.location.reload();
            return;
          }
          timer = window.setTimeout(poll, INTERVAL_MS);
        })
        .catch(function () {
          failures += 1;
          var note = root.querySelector("[data-field='poll_note']");
          if (note) { note.textContent = "暂时无法获取进度，正在重试…"; }
          if (failures < MAX_FAILURES) { timer = window.setTimeout(poll, INTERVAL_MS * 2); }
        });
    }

    if (root.getAttribute("data-finished") !== "1") {
      timer = window.setTimeout(poll, INTERVAL_MS);
    }
    window.addEventListener("pagehide", function () { if (timer) { window.clearTimeout(timer); } });
  }

  function start() {
    var roots = document.querySelectorAll("[data-progress-url]");
    for (var i = 0; i < roots.length; i++) { watch(roots[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
