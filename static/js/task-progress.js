// Progress of a background task (bulk issuance, invitations, evidence packs): polls
// the JSON endpoint named in data-url until the task is finished. The figures sit in
// a polite live region read whole (aria-atomic), so a figure is only written when it
// changes: rewriting the same text would make screen readers repeat it. When the task
// ends, the status says so and a link to the result appears, read with the figures,
// instead of a reload that would drop the reader's place without a word. Without
// JavaScript the « Refresh » link under the bar asks for the page again, and the sentence
// saying that the page updates itself stays hidden.
(function () {
  document.querySelectorAll("[data-task-progress]").forEach(function (box) {
    if (box.dataset.finished === "true") return;
    var bar = box.querySelector("progress");
    var doneKey = box.dataset.doneKey || "done";
    function field(name) { return box.querySelector("[data-field=" + name + "]"); }
    function show(name, value) {
      var element = field(name);
      var text = String(value);
      if (element && element.textContent !== text) element.textContent = text;
    }
    function finish() {
      show("status", box.dataset.finishedText || "");
      var result = field("result");
      if (result) result.hidden = false;
      var refresh = field("refresh");
      if (refresh) refresh.hidden = true;
      var updating = field("updating");
      if (updating) updating.hidden = true;
    }
    function poll() {
      fetch(box.dataset.url, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (progress) {
          var done = progress[doneKey];
          if (progress.total > 0 && bar.max !== progress.total) bar.max = progress.total;
          if (bar.value !== done) bar.value = done;
          if (bar.textContent !== progress.percent + " %") bar.textContent = progress.percent + " %";
          show("done", done);
          show("total", progress.total);
          // A failure is the server's to explain (its message, what to do next):
          // the page is asked again rather than announced « done ».
          if (progress.finished && progress.status === "failed") { window.location.reload(); }
          else if (progress.finished) { finish(); } else { setTimeout(poll, 2000); }
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    var updating = field("updating");
    if (updating) updating.hidden = false;
    setTimeout(poll, 2000);
  });
})();
