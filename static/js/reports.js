// The download page: polls the JSON status of the jobs shown while any is waiting or running,
// and updates their rows in place. Without this file the page's "Refresh" link does the same.
(function () {
  "use strict";
  var table = document.querySelector("[data-status-url]");
  if (!table) { return; }
  var url = table.getAttribute("data-status-url");

  function rows() { return table.querySelectorAll("tr[data-job-id]"); }

  function pending() {
    var ids = [];
    rows().forEach(function (tr) {
      var s = tr.getAttribute("data-job-state");
      if (s === "queued" || s === "running") { ids.push(tr.getAttribute("data-job-id")); }
    });
    return ids;
  }

  function update(job) {
    var tr = table.querySelector('tr[data-job-id="' + job.id + '"]');
    if (!tr) { return; }
    tr.setAttribute("data-job-state", job.stalled ? "stalled" : job.state);
    tr.querySelector(".job-state").textContent = job.state_label;
    tr.querySelector(".job-progress").value = job.progress;
    tr.querySelector(".job-stage").textContent = job.stage;
    tr.querySelector(".job-error").textContent = job.error || "";
    tr.querySelector(".job-download").classList.toggle("d-none", !job.download_url);
    tr.querySelector(".job-retry").classList.toggle("d-none", !job.retryable);
  }

  function poll() {
    var ids = pending();
    if (!ids.length) { return; }
    fetch(url + "?ids=" + ids.join(","), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (body) { body.jobs.forEach(update); }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 10000); });
  }

  window.setTimeout(poll, 1000);
}());
