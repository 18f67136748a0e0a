// A job's page: ask /jobs/<id>.json how far the job has gone and show it, until it ends;
// then reload the page, which shows the result (or goes to it). Without JavaScript the
// page refreshes itself (<noscript> meta refresh).
(function () {
  "use strict";
  var main = document.querySelector("main[data-status-url]");
  if (!main) return;
  var url = main.getAttribute("data-status-url");
  var part = function (name) { return main.querySelector('[data-job="' + name + '"]'); };
  var number = new Intl.NumberFormat(document.documentElement.lang || undefined);
  var delay = 700;
  var failures = 0;

  function show(job) {
    main.setAttribute("data-state", job.state);
    part("state_label").textContent = job.state_label;
    part("step").textContent = job.step ? " · " + job.step : "";
    var bar = part("bar");
    var counts = part("counts");
    if (job.total) {
      bar.max = job.total;
      bar.value = job.done;
      bar.textContent = job.done + " / " + job.total;
      counts.textContent = number.format(job.done) + " / " + number.format(job.total);
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (job) {
        failures = 0;
        show(job);
        if (job.state === "done" || job.state === "failed" || job.state === "cancelled") {
          window.location.reload();
          return;
        }
        delay = Math.min(delay * 1.3, 5000);
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // a weak connection: try again, more slowly, and fall back to reloading
        failures += 1;
        if (failures > 5) { window.location.reload(); return; }
        window.setTimeout(poll, 3000 * failures);
      });
  }
  window.setTimeout(poll, delay);
})();
