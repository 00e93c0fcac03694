// After a form came back with errors, move the keyboard and screen-reader focus to the error summary
// (it lists every error, each linked to its field). Without JavaScript the summary's `autofocus`
// does the same in current browsers; the page title starts with "Fehler: " either way.
(function () {
  "use strict";
  function focusSummary() {
    var summary = document.querySelector(".error-summary");
    if (summary && document.activeElement !== summary) {
      summary.focus();
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusSummary);
  } else {
    focusSummary();
  }
})();
