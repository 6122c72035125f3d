// A form sent back with errors: its error summary is in the page from the start,
// where role="alert" alone is not announced. Moving the focus to it makes screen
// readers read it and puts keyboard users next to its links; the title says the
// submit failed (RGAA 8.6, 11.10), in the words the template gives (data-error-title).
(function () {
  var summary = document.querySelector("[data-error-summary]") || document.getElementById("error-summary");
  if (!summary) return;
  var prefix = document.body.getAttribute("data-error-title");
  if (prefix && document.title.indexOf(prefix) !== 0) {
    document.title = prefix + " " + document.title;
  }
  if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
  summary.focus();
})();
