// The segment editor: how many clients its conditions match, as they change.
(function () {
  "use strict";

  function setUp() {
    var rules = document.querySelector("[data-segment-count]");
    if (!rules || rules.dataset.countReady) return;
    rules.dataset.countReady = "1";
    var form = rules.closest("form");
    var output = document.createElement("p");
    output.className = "help";
    output.setAttribute("data-testid", "segment-count");
    output.setAttribute("aria-live", "polite");
    rules.closest(".w-field__wrapper, .w-field, div").appendChild(output);
    var timer = null;
    // Only the latest request may write: answers can come back out of order.
    var latest = 0;

    function refresh() {
      var ticket = ++latest;
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, name) {
        if (name === "match" || name.indexOf("rules-") === 0) params.append(name, value);
      });
      if (rules.dataset.segment) params.append("segment", rules.dataset.segment);
      fetch(rules.dataset.segmentCount + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (ticket === latest) output.textContent = data.text || data.error || "";
        })
        .catch(function () { if (ticket === latest) output.textContent = ""; });
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    }

    form.addEventListener("change", later);
    form.addEventListener("input", later);
    refresh();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
