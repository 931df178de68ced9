// The mailing form: the audience's live count as lists, "all my clients" and the
// segment change.
(function () {
  "use strict";

  function setUp() {
    var everyone = document.querySelector("input[name=all_clients][data-audience-count]");
    if (!everyone || everyone.dataset.countReady) return;
    everyone.dataset.countReady = "1";
    var form = everyone.form;
    var output = document.createElement("p");
    output.className = "help";
    output.setAttribute("data-testid", "audience-count");
    output.setAttribute("aria-live", "polite");
    everyone.closest(".w-field__wrapper, .w-field, p, div").appendChild(output);

    // Only the latest request may write: answers can come back out of order (a
    // slow first count arriving after the one for the box just ticked left the
    // stale number on the form).
    var latest = 0;

    function refresh() {
      var ticket = ++latest;
      var params = new URLSearchParams();
      form.querySelectorAll("input[name=lists]:checked").forEach(function (box) {
        params.append("lists", box.value);
      });
      if (everyone.checked) params.append("all_clients", "on");
      var segment = form.querySelector("select[name=segment]");
      if (segment && segment.value) params.append("segment", segment.value);
      if (everyone.dataset.mailing) params.append("mailing", everyone.dataset.mailing);
      fetch(everyone.dataset.audienceCount + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && ticket === latest) output.textContent = data.text;
        });
    }

    form.addEventListener("change", function (event) {
      var name = event.target.name;
      if (name === "lists" || name === "all_clients" || name === "segment") refresh();
    });
    refresh();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
