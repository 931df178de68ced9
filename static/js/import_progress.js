// A client import's page: poll its status until it is done and move the bar.
(function () {
  "use strict";

  function setUp() {
    var box = document.querySelector("[data-import-status]");
    if (!box) return;
    function field(name) { return box.querySelector("[data-field=" + name + "]"); }

    function show(data) {
      ["status_label", "done", "created", "updated", "skipped", "rejected", "repeated"].forEach(function (name) {
        field(name).textContent = data[name];
      });
      field("total").textContent = data.total === null ? "…" : data.total;
      field("bar").max = data.total || 1;
      field("bar").value = data.done;
      field("error").textContent = data.error;
      field("error").hidden = !data.error;
      field("repeated_lines").textContent = data.repeated_lines ? " (" + data.repeated_lines + ")" : "";
      field("repeated_lines").hidden = !data.repeated_lines;
      field("rejected_link").hidden = !(data.rejected || data.repeated);
      field("worker_hint").hidden = !data.waits_for_worker;
    }

    function poll() {
      fetch(box.dataset.importStatus, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) return;
          show(data);
          if (!data.finished) window.setTimeout(poll, 1000);
        });
    }
    poll();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
